#!/usr/bin/env node
'use strict'

// `aivault --version` answers without loading oclif: start-up is a feature.
const argv = process.argv.slice(2)
if (argv.length === 1 && argv[0] === '--version') {
  const {version} = require('../package.json')
  process.stdout.write(`aivault/${version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else {
  // One bundled file holds oclif and every command (scripts/bundle.js).
  const cli = require('../dist/aivault.js')
  cli.execute({dir: __dirname}).catch(cli.handle)
}

#!/usr/bin/env node
'use strict'

// `aivault --version` answers without loading oclif: start-up is a feature.
const argv = process.argv.slice(2)
if (argv.length === 1 && argv[0] === '--version') {
  const {version} = require('../package.json')
  process.stdout.write(`aivault/${version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else {
  // One bundled file holds oclif and every command (scripts/bundle.js). npm already checks
  // the engines field; oclif's own semver check would cost ~10 ms on every start.
  process.env.OCLIF_DISABLE_ENGINE_WARNING = '1'
  const cli = require('../dist/aivault.js')
  delete process.env.OCLIF_DISABLE_ENGINE_WARNING
  cli.execute({dir: __dirname}).catch(cli.handle)
}

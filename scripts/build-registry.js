#!/usr/bin/env node
'use strict'
/**
 * Builds the registry: validates registry/*.yaml and writes dist/registry.json and
 * dist/registry/provider-validator.js. Usage: node scripts/build-registry.js [--registry DIR] [--out DIR]
 *
 * The logic lives in src/registry/build.ts so tests and run time share the rules. It runs
 * after tsc (dist/registry/build.js); without a compiled copy it falls back to the sources
 * through tsx (a dev dependency).
 */
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const compiled = path.join(root, 'dist', 'registry', 'build.js')

function loadBuild() {
  if (fs.existsSync(compiled)) return require(compiled)
  try {
    require('tsx/cjs')
  } catch {
    console.error(`build-registry: ${path.relative(root, compiled)} is missing; run tsc first`)
    process.exit(1)
  }
  return require(path.join(root, 'src', 'registry', 'build.ts'))
}

process.exitCode = loadBuild().runRegistryBuild(root, process.argv.slice(2))

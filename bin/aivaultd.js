#!/usr/bin/env node
'use strict'
// aivaultd: the key-holding broker daemon (SPEC §10).
// Plugin hooks written as ES modules are imported through this (src/plugins/import-module.ts).
globalThis.__aivaultImport = (specifier) => import(specifier)
require('../dist/daemon/main.js').main(process.argv.slice(2))

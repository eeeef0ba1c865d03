#!/usr/bin/env node
'use strict'
// aivaultd: the key-holding broker daemon (SPEC §10).
require('../dist/daemon/main.js').main(process.argv.slice(2))

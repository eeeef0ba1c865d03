#!/usr/bin/env node
'use strict'
/**
 * npm run bench: times the built CLI against the clean floor measured in the same run
 * (`node -e 0` with only PATH, HOME and the vault's variables, no NODE_*; started the same way)
 * and prints markdown tables. Nothing here is asserted.
 * Usage: node bench/run.js [--quick] [--only=startup,bulk,...]   (--quick: smaller sizes, a smoke run)
 */
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const {CLI, run, median, tempVault, fillVault} = require('./common')

const quick = process.argv.includes('--quick')
const only = (process.argv.find((a) => a.startsWith('--only=')) ?? '').slice('--only='.length).split(',').filter(Boolean)
const wanted = (part) => only.length === 0 || only.includes(part)
const SIZES = quick ? {big: 1000, importN: 200} : {big: 10000, importN: 1000}

/** Bulk rows: imports, the cold and warm list of a fresh clone, rotate-master; vs the clean floor. */
function bulk(floorMs) {
  const rows = []
  const vs = (ms) => `${(ms / floorMs).toFixed(1)}×`
  const imp = tempVault('import')
  const importMs = fillVault(imp.env, SIZES.importN)
  rows.push([`secrets import of ${SIZES.importN} entries (one process)`, `${importMs.toFixed(0)} ms`, vs(importMs), ''])
  imp.dispose()

  const big = tempVault('big')
  const fillMs = fillVault(big.env, SIZES.big)
  rows.push([`secrets import of ${SIZES.big} entries (setup)`, `${fillMs.toFixed(0)} ms`, vs(fillMs), ''])
  rows.push(...require('./cold-list').main(big, SIZES.big, quick))
  const rotate = run([process.execPath, CLI, 'rotate-master'], big.env)
  rows.push([`rotate-master over ${SIZES.big} secrets`, `${rotate.toFixed(0)} ms`, vs(rotate), ''])
  big.dispose()
  return rows
}

/** The clean floor alone, when the start-up part is not run. */
function cleanFloor() {
  const vault = tempVault('floor')
  const ms = median(Array.from({length: 9}, () => run([process.execPath, '-e', '0'], vault.env)))
  vault.dispose()
  return ms
}

const table = (head, rows) => [head, '|---|---|---|---|', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n')

async function main() {
  const sections = []
  let floorMs
  if (wanted('startup')) {
    const {rows, floor} = await require('./startup').main(quick)
    floorMs = median(floor.all)
    sections.push(table('| start-up, clean env | median (range of 3 block medians) | vs clean floor (range) | target |', rows))
  }
  floorMs ??= cleanFloor()
  if (wanted('bulk')) sections.push(table('| bulk, clean env | time (fresh clone: median, range of 3 block medians) | vs clean floor | target |', bulk(floorMs)))
  const rest = []
  if (wanted('invoke')) rest.push(...(await require('./invoke').main(quick)))
  if (wanted('plugins')) rest.push(...(await require('./plugins').main(quick)))
  if (wanted('mcp')) rest.push(...(await require('./mcp').main(quick)))
  if (wanted('recipients')) rest.push(...(await require('./recipients').main(quick)))
  if (rest.length > 0) sections.push(table('| measurement | median | vs node -e 0 | target |', rest))
  if (wanted('serve')) {
    const serveRows = await require('./serve').main(quick)
    sections.push(table('| aivault serve | throughput | latency | note |', serveRows))
  }
  const header = `node ${process.version}, ${os.cpus().length} cores, ${new Date().toISOString()}\n` + `Reference: the clean floor, node -e 0 with only PATH, HOME and AIVAULT_* set (no NODE_*): ${floorMs.toFixed(0)} ms.`
  const text = `${header}\n\n${sections.join('\n\n')}\n`
  console.log(text)
  const out = path.join(__dirname, 'results')
  fs.mkdirSync(out, {recursive: true})
  fs.writeFileSync(path.join(out, 'latest.md'), text)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})

#!/usr/bin/env node
'use strict'
/**
 * npm run bench: times the built CLI against a baseline measured in the same run
 * (`node -e 0`, started the same way), and prints a markdown table. Nothing here is asserted.
 * Usage: node bench/run.js [--quick]   (--quick: smaller sizes, for a smoke run)
 */
const {spawnSync} = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const CLI = path.join(__dirname, '..', 'bin', 'run.js')
const quick = process.argv.includes('--quick')
const SIZES = quick ? {startup: 8, big: 1000, importN: 200} : {startup: 25, big: 10000, importN: 1000}

function run(args, env, input) {
  const started = process.hrtime.bigint()
  const result = spawnSync(args[0], args.slice(1), {env, input, stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'], maxBuffer: 1 << 26})
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`)
  return ms
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

function tempVault(label) {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), `aivault-bench-${label}-`))
  const env = {PATH: process.env.PATH, HOME: base, AIVAULT_DIR: path.join(base, 'vault'), AIVAULT_KEYS_DIR: path.join(base, 'keys'), AIVAULTD_AUTOSTART: '0'}
  return {base, env, dispose: () => fs.rmSync(base, {recursive: true, force: true})}
}

function fillVault(env, count) {
  const lines = []
  for (let i = 0; i < count; i++) lines.push(`BENCH_SECRET_${String(i).padStart(5, '0')}=value-${i}-${Math.random().toString(36).slice(2)}`)
  const file = path.join(env.HOME, 'bulk.env')
  fs.writeFileSync(file, lines.join('\n') + '\n', {mode: 0o600})
  return run([process.execPath, CLI, 'secrets', 'import', '--from-env-file', file], env)
}

/** Interleave the commands so background noise hits all of them alike. */
function startup(commands, env, rounds) {
  const times = commands.map(() => [])
  for (let i = 0; i < rounds; i++) commands.forEach((c, j) => times[j].push(run(c.args, env)))
  return commands.map((c, j) => ({name: c.name, ms: median(times[j])}))
}

async function main() {
  const rows = []
  const small = tempVault('small')
  fillVault(small.env, 100)
  run([process.execPath, CLI, 'secrets', 'list'], small.env) // warm the listing cache
  const node = [process.execPath]
  const commands = [
    {name: 'node -e 0 (floor)', args: [...node, '-e', '0']},
    {name: 'aivault --version', args: [...node, CLI, '--version']},
    {name: 'aivault secrets list (100 secrets)', args: [...node, CLI, 'secrets', 'list']},
    {name: 'aivault status', args: [...node, CLI, 'status']},
    {name: 'aivault capability list (72 providers)', args: [...node, CLI, 'capability', 'list']},
  ]
  const targets = {'aivault --version': 2.0, 'aivault secrets list (100 secrets)': 2.3, 'aivault capability list (72 providers)': 2.5}
  // Start-up twice: in this shell's environment (here NODE_EXTRA_CA_CERTS adds ~80 ms to every
  // node start, floor included), and in a minimal one, where the CLI's own cost shows plainly.
  const environments = [
    ['inherited env', {...process.env, ...small.env}],
    ['minimal env', small.env],
  ]
  let floor = 0
  for (const [label, env] of environments) {
    const results = startup(commands, env, SIZES.startup)
    if (label === 'inherited env') floor = results[0].ms
    for (const r of results) {
      rows.push([`${r.name} — ${label}`, `${r.ms.toFixed(0)} ms`, `${(r.ms / results[0].ms).toFixed(2)}×`, targets[r.name] ? `≤ ${targets[r.name]}×` : ''])
    }
  }
  small.dispose()

  const imp = tempVault('import')
  const importMs = fillVault(imp.env, SIZES.importN)
  rows.push([`secrets import of ${SIZES.importN} entries (one process)`, `${importMs.toFixed(0)} ms`, `${(importMs / floor).toFixed(1)}×`, ''])
  imp.dispose()

  const big = tempVault('big')
  const fillMs = fillVault(big.env, SIZES.big)
  rows.push([`secrets import of ${SIZES.big} entries (setup)`, `${fillMs.toFixed(0)} ms`, `${(fillMs / floor).toFixed(1)}×`, ''])
  fs.rmSync(path.join(big.env.AIVAULT_DIR, 'run', 'cache'), {recursive: true, force: true})
  const cold = run([process.execPath, CLI, 'secrets', 'list'], big.env)
  rows.push([`secrets list, ${SIZES.big} secrets, cold cache`, `${cold.toFixed(0)} ms`, `${(cold / floor).toFixed(1)}×`, ''])
  const warm = median([1, 2, 3].map(() => run([process.execPath, CLI, 'secrets', 'list'], big.env)))
  rows.push([`secrets list, ${SIZES.big} secrets, warm cache`, `${warm.toFixed(0)} ms`, `${(warm / floor).toFixed(1)}×`, '< 1000 ms'])
  const rotate = run([process.execPath, CLI, 'rotate-master'], big.env)
  rows.push([`rotate-master over ${SIZES.big} secrets`, `${rotate.toFixed(0)} ms`, `${(rotate / floor).toFixed(1)}×`, ''])
  big.dispose()

  rows.push(...(await require('./invoke').main(quick)))
  rows.push(...(await require('./plugins').main(quick)))
  rows.push(...(await require('./mcp').main(quick)))
  rows.push(...(await require('./recipients').main(quick)))
  const serveRows = await require('./serve').main(quick)
  const table = ['| measurement | median | vs node -e 0 | target |', '|---|---|---|---|', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n')
  const serveTable = ['| aivault serve | throughput | latency | note |', '|---|---|---|---|', ...serveRows.map((r) => `| ${r.join(' | ')} |`)].join('\n')
  const note = `Bulk rows are relative to the inherited-env floor.\n\n${serveTable}`
  console.log(`node ${process.version}, ${os.cpus().length} cores, ${new Date().toISOString()}\n\n${table}\n\n${note}`)
  const out = path.join(__dirname, 'results')
  fs.mkdirSync(out, {recursive: true})
  fs.writeFileSync(path.join(out, 'latest.md'), `${table}\n\n${note}\n`)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})

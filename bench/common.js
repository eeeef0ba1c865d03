'use strict'
/**
 * What the start-up and bulk parts of npm run bench share: spawning a timed command, temporary
 * vaults in the clean environment, and the block statistics every start-up row reports.
 */
const {spawnSync} = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const CLI = path.join(__dirname, '..', 'bin', 'run.js')
const PLUGINS = ['aivault-plugin-example', 'aivault-plugin-postgres'].map((name) => path.join(__dirname, '..', 'plugins', name))

/** Wall time of one command in ms; throws with its stderr when it fails. */
function run(args, env, input) {
  const started = process.hrtime.bigint()
  const result = spawnSync(args[0], args.slice(1), {env, input, stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'], maxBuffer: 1 << 26})
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`)
  return ms
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/**
 * A temporary vault and its clean environment: PATH, HOME and the vault's own variables, no
 * NODE_* at all (NODE_EXTRA_CA_CERTS alone adds ~70 ms to every node start on the test VMs).
 */
function tempVault(label) {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), `aivault-bench-${label}-`))
  const env = {
    PATH: process.env.PATH,
    HOME: base,
    AIVAULT_DIR: path.join(base, 'vault'),
    AIVAULT_KEYS_DIR: path.join(base, 'keys'),
    AIVAULT_DATA_DIR: path.join(base, 'data'),
    AIVAULTD_AUTOSTART: '0',
  }
  return {base, env, dispose: () => fs.rmSync(base, {recursive: true, force: true})}
}

/** `secrets import` of `count` generated entries; returns its wall time. */
function fillVault(env, count) {
  const lines = []
  for (let i = 0; i < count; i++) lines.push(`BENCH_SECRET_${String(i).padStart(5, '0')}=value-${i}-${Math.random().toString(36).slice(2)}`)
  const file = path.join(env.HOME, 'bulk.env')
  fs.writeFileSync(file, lines.join('\n') + '\n', {mode: 0o600})
  const ms = run([process.execPath, CLI, 'secrets', 'import', '--from-env-file', file], env)
  fs.rmSync(file)
  return ms
}

/** Link the repository's two first-party plugins into env's data folder (as docs/plugins.md shows). */
function linkPlugins(env) {
  for (const dir of PLUGINS) run([process.execPath, CLI, 'plugins', 'link', dir], env)
}

/**
 * Run `commands` in `blocks` blocks of `rounds` interleaved rounds (every other round in
 * reverse order, so no command always follows the same one). Returns, per command, all times
 * and each block's median.
 */
function measureBlocks(commands, {blocks, rounds, before}) {
  const stats = commands.map(() => ({all: [], blockMedians: []}))
  for (let b = 0; b < blocks; b++) {
    const times = commands.map(() => [])
    for (let r = 0; r < rounds; r++) {
      if (before) before()
      const order = commands.map((_, j) => j)
      if (r % 2 === 1) order.reverse()
      for (const j of order) times[j].push(run(commands[j].args, commands[j].env))
    }
    times.forEach((t, j) => {
      stats[j].all.push(...t)
      stats[j].blockMedians.push(median(t))
    })
  }
  return stats
}

const range = (xs) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`

/**
 * One table row: median (range of block medians) and the ratio to the floor, as the median of
 * the per-block ratios with their range. A ratio target is met when every block meets it.
 */
function blockRow(name, stat, floor, target) {
  const ratios = stat.blockMedians.map((m, b) => m / floor.blockMedians[b])
  const ms = `${median(stat.all).toFixed(0)} ms (${range(stat.blockMedians)})`
  const ratio = `${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`
  if (target === undefined) return [name, ms, ratio, '']
  const met = ratios.filter((x) => x <= target).length
  const verdict = met === ratios.length ? 'met' : met === 0 ? 'missed' : `met in ${met} of ${ratios.length} blocks`
  return [name, ms, ratio, `≤ ${target.toFixed(1)}×: ${verdict}`]
}

module.exports = {CLI, PLUGINS, run, median, range, tempVault, fillVault, linkPlugins, measureBlocks, blockRow}

'use strict'
/**
 * Recipients benchmark (part of npm run bench; issue 15): `recipients add` seals the master key
 * for one more member and touches no record, so it should take the same time on a vault of
 * 10 secrets as on one of 10,000 (--quick: 1,000). Adds are interleaved between the two vaults,
 * one new member per run, and the medians are compared. Next to them: `rotate-master` over the
 * big vault (what every add would cost if it re-encrypted), and `recipients remove` over it (a
 * key rotation plus re-sealing), run in a pseudo-terminal through `script` when it exists so
 * the progress bar it draws there is counted.
 */
const {spawnSync} = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const CLI = path.join(__dirname, '..', 'bin', 'run.js')

function run(args, env, input) {
  const started = process.hrtime.bigint()
  const result = spawnSync(process.execPath, [CLI, ...args], {env, input, encoding: 'utf8', maxBuffer: 1 << 26})
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0) throw new Error(`aivault ${args.join(' ')} exited ${result.status}: ${result.stderr}`)
  return {ms, stdout: result.stdout}
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** A recipients vault of `count` secrets, created by alice. */
function teamVault(base, label, count) {
  const dir = path.join(base, label)
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    AIVAULT_DIR: path.join(dir, 'vault'),
    AIVAULT_KEYS_DIR: path.join(dir, 'keys'),
    AIVAULT_IDENTITY: path.join(dir, 'alice.key'),
    AIVAULTD_DISABLE: '1',
    AIVAULTD_AUTOSTART: '0',
    AIVAULT_DISABLE_DISK_LOGS: '0',
  }
  fs.mkdirSync(dir, {recursive: true})
  run(['init', '--provider', 'recipients', '--name', 'alice'], env)
  const lines = []
  for (let i = 0; i < count; i++) lines.push(`BENCH_TEAM_${String(i).padStart(5, '0')}=value-${i}-${Math.random().toString(36).slice(2)}`)
  const file = path.join(dir, 'bulk.env')
  fs.writeFileSync(file, lines.join('\n') + '\n', {mode: 0o600})
  run(['secrets', 'import', '--from-env-file', file], env)
  return {env, count}
}

/** Public keys of `n` fresh identities (made by `identity create`, as a member would). */
function publicKeys(base, n) {
  const keys = []
  for (let i = 0; i < n; i++) {
    const env = {PATH: process.env.PATH, HOME: base, AIVAULT_IDENTITY: path.join(base, 'members', `m${i}.key`)}
    keys.push(JSON.parse(run(['identity', 'create', '--json'], env).stdout).publicKey)
  }
  return keys
}

/** `recipients remove` in a pseudo-terminal (when `script` exists): its time and how often it drew its progress bar. */
function removeWithProgress(vault, name) {
  const args = ['recipients', 'remove', '--name', name]
  if (!fs.existsSync('/usr/bin/script')) return {ms: run(args, vault.env).ms, draws: null}
  const command = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ')
  const started = process.hrtime.bigint()
  const result = spawnSync('/usr/bin/script', ['-qec', command, '/dev/null'], {env: vault.env, encoding: 'utf8', maxBuffer: 1 << 26})
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0) throw new Error(`recipients remove exited ${result.status}: ${result.stdout}`)
  return {ms, draws: (result.stdout.match(/Re-wrapping data keys \[/g) || []).length}
}

async function main(quick = process.argv.includes('--quick')) {
  const bigCount = quick ? 1000 : 10000
  const rounds = quick ? 3 : 7
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-bench-recipients-'))
  try {
    const small = teamVault(base, 'small', 10)
    const big = teamVault(base, 'big', bigCount)
    const keys = publicKeys(base, rounds * 2)
    const times = {small: [], big: []}
    const addedToBig = []
    for (let i = 0; i < rounds; i++) {
      // Interleaved, and each vault goes first every other round, so drift hits both alike.
      const order = i % 2 === 0 ? ['small', 'big'] : ['big', 'small']
      for (const [j, label] of order.entries()) {
        const vault = label === 'small' ? small : big
        const name = `m${i * 2 + j}`
        if (label === 'big') addedToBig.push(name)
        times[label].push(run(['recipients', 'add', '--name', name, '--public-key', keys[i * 2 + j]], vault.env).ms)
      }
    }
    const addSmall = median(times.small)
    const addBig = median(times.big)
    const rotate = run(['rotate-master'], big.env).ms
    const remove = removeWithProgress(big, addedToBig[0])
    const rows = [
      ['recipients add, 10 secrets (median)', `${addSmall.toFixed(0)} ms`, '', ''],
      [`recipients add, ${bigCount} secrets (median)`, `${addBig.toFixed(0)} ms`, `${(addBig / addSmall).toFixed(2)}× the 10-secret add`, '≈ 1×'],
      [`rotate-master over ${bigCount} secrets (recipients vault)`, `${rotate.toFixed(0)} ms`, `${(rotate / addBig).toFixed(1)}× an add`, ''],
      [`recipients remove over ${bigCount} secrets`, `${remove.ms.toFixed(0)} ms`, remove.draws === null ? 'no pty: progress not counted' : `progress bar drawn ${remove.draws}×`, ''],
    ]
    return rows
  } finally {
    fs.rmSync(base, {recursive: true, force: true})
  }
}

module.exports = {main}

if (require.main === module) {
  main().then((rows) => {
    console.log(['| measurement | median | note | target |', '|---|---|---|---|', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n'))
  }, (error) => {
    console.error(error)
    process.exit(1)
  })
}

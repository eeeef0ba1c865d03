'use strict'
/**
 * The cold `secrets list` over a big vault the way a user meets it: a fresh `git clone` of a
 * vault kept in git. run/ is git-ignored, so the clone has no listing cache, and git has just
 * written every record, so the records are in the OS page cache. Every round clones anew
 * (untimed), then times the clean floor, the cold list and a second (warm) list of that clone;
 * three blocks of such rounds, each row with the range of its block medians.
 *
 * AIVAULT_BENCH_DROP_CACHES=1 (Linux, as root) adds a row with the records read from disk: the
 * kernel's caches are dropped after the clone and the CLI itself is warmed again first. It
 * evicts the page cache of the whole machine, so it is never on by default.
 */
const {spawnSync} = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const {CLI, run, median, range} = require('./common')

const BLOCKS = 3

function git(args, cwd, env) {
  const result = spawnSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@localhost', '-c', 'commit.gpgsign=false', '-c', 'init.defaultBranch=main', ...args], {cwd, env, encoding: 'utf8'})
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`)
}

const hasGit = () => spawnSync('git', ['--version']).status === 0

function dropCaches() {
  spawnSync('sync')
  fs.writeFileSync('/proc/sys/vm/drop_caches', '3')
}

/**
 * `vault` is a filled temporary vault (common.tempVault). Returns table rows; leaves `vault`
 * itself as it was (its own run/ untouched), with one commit in a git repository.
 */
function main(vault, count, quick) {
  if (!hasGit()) return [[`secrets list, ${count} secrets, fresh clone: skipped (no git)`, '', '', '< 1000 ms']]
  const rounds = quick ? 1 : 3
  const env = vault.env
  git(['init', '-q'], env.AIVAULT_DIR, env)
  git(['add', '-A'], env.AIVAULT_DIR, env)
  git(['commit', '-q', '-m', 'bench vault'], env.AIVAULT_DIR, env)
  const clone = path.join(vault.base, 'clone')
  const cloneEnv = {...env, AIVAULT_DIR: clone}
  const fresh = () => {
    fs.rmSync(clone, {recursive: true, force: true})
    git(['clone', '-q', env.AIVAULT_DIR, clone], vault.base, env)
  }
  const list = [process.execPath, CLI, 'secrets', 'list']
  const floor = [process.execPath, '-e', '0']
  const names = ['floor', 'cold', 'warm']
  const blocks = names.map(() => [])
  const all = names.map(() => [])
  for (let b = 0; b < BLOCKS; b++) {
    const times = names.map(() => [])
    for (let r = 0; r < rounds; r++) {
      fresh()
      if (r % 2 === 0) times[0].push(run(floor, env))
      times[1].push(run(list, cloneEnv))
      times[2].push(run(list, cloneEnv))
      if (r % 2 === 1) times[0].push(run(floor, env))
    }
    times.forEach((t, j) => {
      blocks[j].push(median(t))
      all[j].push(...t)
    })
  }
  const row = (name, j, target = '') => {
    const ratios = blocks[j].map((m, b) => m / blocks[0][b])
    return [name, `${median(all[j]).toFixed(0)} ms (${range(blocks[j])})`, `${median(ratios).toFixed(1)}× (${Math.min(...ratios).toFixed(1)}–${Math.max(...ratios).toFixed(1)})`, target]
  }
  const verdict = (j) => (Math.max(...blocks[j]) < 1000 ? 'met' : Math.min(...blocks[j]) >= 1000 ? 'missed' : 'met in some blocks')
  const rows = [
    row(`secrets list, ${count} secrets, fresh git clone (cold listing cache)`, 1, `< 1000 ms: ${verdict(1)}`),
    row(`secrets list, ${count} secrets, same clone again (warm listing cache)`, 2),
  ]
  if (process.env.AIVAULT_BENCH_DROP_CACHES === '1') rows.push(diskRow(fresh, list, cloneEnv, env, count, rounds))
  fs.rmSync(clone, {recursive: true, force: true})
  return rows
}

/** The cold list with the records read from disk (see the module comment). */
function diskRow(fresh, list, cloneEnv, env, count, rounds) {
  const warmCli = [process.execPath, CLI, 'capability', 'list']
  const noVault = {...env, AIVAULT_DIR: path.join(env.HOME, 'no-vault')}
  const blocks = []
  const all = []
  for (let b = 0; b < BLOCKS; b++) {
    const times = []
    for (let r = 0; r < rounds; r++) {
      fresh()
      dropCaches()
      run(warmCli, noVault) // node, the bundle and its code cache back in memory
      times.push(run(list, cloneEnv))
    }
    blocks.push(median(times))
    all.push(...times)
  }
  return [`secrets list, ${count} secrets, fresh clone, records not in the page cache (caches dropped)`, `${median(all).toFixed(0)} ms (${range(blocks)})`, '', '']
}

module.exports = {main}

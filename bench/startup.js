'use strict'
/**
 * Start-up rows of npm run bench, against the clean floor: `node -e 0` in an environment that
 * holds only PATH, HOME and the vault's variables (no NODE_*), spawned the way every command is.
 * Each command runs without plugins and with the repository's two first-party plugins linked
 * (a second data folder), all interleaved round by round, in three blocks: a row shows the
 * median of all runs with the range of the block medians, and its ratio to the floor per block.
 * One reference row shows the floor in this shell's own environment.
 */
const fs = require('node:fs')
const path = require('node:path')

const {CLI, run, tempVault, fillVault, linkPlugins, measureBlocks, blockRow} = require('./common')

const BLOCKS = 3
const providers = fs.readdirSync(path.join(__dirname, '..', 'registry')).filter((f) => f.endsWith('.yaml')).length

async function main(quick = process.argv.includes('--quick')) {
  const rounds = quick ? 4 : 20
  const vault = tempVault('startup')
  fillVault(vault.env, 100)
  const clean = vault.env
  const withPlugins = {...clean, AIVAULT_DATA_DIR: path.join(vault.base, 'data-plugins')}
  linkPlugins(withPlugins)
  // Warm what the first run would write: the listing cache, the plugin registry cache.
  for (const env of [clean, withPlugins]) for (const args of [['secrets', 'list'], ['capability', 'list']]) run([process.execPath, CLI, ...args], env)

  const node = process.execPath
  const cli = (...args) => [node, CLI, ...args]
  const commands = [
    {name: 'node -e 0: the clean floor (PATH, HOME, AIVAULT_*; no NODE_*)', args: [node, '-e', '0'], env: clean},
    {name: `node -e 0 in this shell's environment (${nodeVars()})`, args: [node, '-e', '0'], env: {...process.env, ...clean}},
    {name: 'aivault --version', args: cli('--version'), env: clean, target: 1.2},
    {name: 'aivault --version, two plugins linked', args: cli('--version'), env: withPlugins, target: 1.2},
    {name: 'aivault secrets list (100 secrets)', args: cli('secrets', 'list'), env: clean, target: 2.0},
    {name: 'aivault secrets list (100 secrets), two plugins linked', args: cli('secrets', 'list'), env: withPlugins, target: 2.0},
    {name: 'aivault status', args: cli('status'), env: clean},
    {name: `aivault capability list (${providers} providers)`, args: cli('capability', 'list'), env: clean, target: 2.0},
    {name: `aivault capability list (${providers} + 2 providers), two plugins linked`, args: cli('capability', 'list'), env: withPlugins, target: 2.0},
  ]
  const stats = measureBlocks(commands, {blocks: BLOCKS, rounds})
  vault.dispose()
  const floor = stats[0]
  return {rows: commands.map((c, j) => blockRow(c.name, stats[j], floor, c.target)), floor}
}

/** The NODE_* variables of this shell, by name only (their values may be paths or options). */
function nodeVars() {
  const names = Object.keys(process.env).filter((k) => k.startsWith('NODE_'))
  return names.length > 0 ? names.join(', ') : 'no NODE_* set'
}

module.exports = {main, BLOCKS}

if (require.main === module) {
  main().then(({rows}) => {
    console.log(['| start-up | median (block medians) | vs clean floor (blocks) | target |', '|---|---|---|---|', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n'))
  })
}

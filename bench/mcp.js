'use strict'
/**
 * MCP benchmark (part of npm run bench): how long `aivault mcp` takes to answer an MCP
 * client's `initialize` (spawn to the first answer line on stdout), next to `aivault secrets
 * list` (spawn to exit) and `node -e 0`, in the same vault and a clean environment (no NODE_*
 * variables), interleaved round by round. Target: initialize within 2× of `secrets list`.
 * Usage: node bench/mcp.js [--quick]
 */
const {spawn, spawnSync} = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const CLI = path.join(__dirname, '..', 'bin', 'run.js')
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const range = (xs) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`

const INITIALIZE = JSON.stringify({jsonrpc: '2.0', id: 1, method: 'initialize', params: {protocolVersion: '2025-06-18', capabilities: {}, clientInfo: {name: 'bench', version: '1'}}}) + '\n'

/** Milliseconds from spawn to exit. */
function exitTime(args, env) {
  const started = process.hrtime.bigint()
  const result = spawnSync(process.execPath, args, {env, stdio: ['ignore', 'ignore', 'pipe']})
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`)
  return Number(process.hrtime.bigint() - started) / 1e6
}

/** Milliseconds from spawning `aivault mcp` to its answer to initialize. */
function initializeTime(env) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(process.execPath, [CLI, 'mcp'], {env, stdio: ['pipe', 'pipe', 'pipe']})
    let out = ''
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    child.stdout.on('data', (d) => {
      out += d
      if (!out.includes('\n')) return
      const ms = Number(process.hrtime.bigint() - started) / 1e6
      if (!out.includes('"protocolVersion"')) reject(new Error(`not an initialize answer: ${out}`))
      child.stdin.end()
      child.once('close', () => resolve(ms))
    })
    child.once('error', reject)
    child.once('close', (code) => code !== 0 && reject(new Error(`aivault mcp exited ${code}: ${stderr}`)))
    child.stdin.write(INITIALIZE)
  })
}

async function main(quick = process.argv.includes('--quick')) {
  const rounds = quick ? 6 : 20
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-bench-mcp-'))
  const env = {PATH: process.env.PATH, HOME: base, AIVAULT_DIR: path.join(base, 'vault'), AIVAULT_KEYS_DIR: path.join(base, 'keys'), AIVAULTD_DISABLE: '1'}
  try {
    spawnSync(process.execPath, [CLI, 'init', '--testing'], {env, stdio: 'ignore'})
    const lines = Array.from({length: 100}, (_, i) => `BENCH_MCP_${i}=value-${i}`).join('\n')
    fs.writeFileSync(path.join(base, 'bulk.env'), lines + '\n', {mode: 0o600})
    spawnSync(process.execPath, [CLI, 'secrets', 'import', '--from-env-file', path.join(base, 'bulk.env')], {env, stdio: 'ignore'})
    exitTime([CLI, 'secrets', 'list'], env) // the listing cache, as a user's second run meets it
    const times = {floor: [], list: [], mcp: []}
    for (let i = 0; i < rounds; i++) {
      times.floor.push(exitTime(['-e', '0'], env))
      times.list.push(exitTime([CLI, 'secrets', 'list'], env))
      times.mcp.push(await initializeTime(env))
    }
    const [floor, list, mcp] = [median(times.floor), median(times.list), median(times.mcp)]
    return [
      ['node -e 0 (clean env, MCP rows)', `${floor.toFixed(0)} ms (${range(times.floor)})`, '1.00×', ''],
      ['aivault secrets list (100 secrets)', `${list.toFixed(0)} ms (${range(times.list)})`, `${(list / floor).toFixed(2)}×`, ''],
      ['aivault mcp: spawn to initialize answered', `${mcp.toFixed(0)} ms (${range(times.mcp)})`, `${(mcp / floor).toFixed(2)}×; ${(mcp / list).toFixed(2)}× secrets list`, '≤ 2× secrets list'],
    ]
  } finally {
    fs.rmSync(base, {recursive: true, force: true})
  }
}

module.exports = {main}

if (require.main === module) {
  main().then((rows) => console.log(rows.map((r) => `| ${r.join(' | ')} |`).join('\n')), (error) => {
    console.error(error)
    process.exit(1)
  })
}

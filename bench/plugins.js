'use strict'
/**
 * Plugins benchmark (part of npm run bench): the cost of having the example plugin linked, for
 * commands that use no plugin. Each command runs in the same vault with two plugin data
 * folders (AIVAULT_DATA_DIR): one empty, one where plugins/aivault-plugin-example is linked;
 * runs are interleaved and the ratio of medians is reported (target: at most 1.10×). The warm
 * aivaultd `invoke` path is measured the same way, one daemon per data folder.
 */
const {spawn, spawnSync} = require('node:child_process')
const fs = require('node:fs')
const https = require('node:https')
const os = require('node:os')
const path = require('node:path')

const CLI = path.join(__dirname, '..', 'bin', 'run.js')
const EXAMPLE = path.join(__dirname, '..', 'plugins', 'aivault-plugin-example')

const TIME = '/usr/bin/time'
const cpuFile = path.join(os.tmpdir(), `aivault-bench-cpu-${process.pid}`)

/**
 * Run a command; resolves to its CPU time (user + system, through GNU time) when /usr/bin/time
 * exists, else its wall time. CPU time is what a plugin adds; wall time on a shared 2-core
 * machine mostly measures the neighbours.
 */
function timed(args, env, input) {
  const cpu = fs.existsSync(TIME)
  const argv = cpu ? [TIME, '-q', '-f', '%U %S', '-o', cpuFile, ...args] : args
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(argv[0], argv.slice(1), {env, stdio: ['pipe', 'ignore', 'pipe']})
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${args.join(' ')}: ${code} ${stderr}`))
      if (!cpu) return resolve(Number(process.hrtime.bigint() - started) / 1e6)
      const [user, system] = fs.readFileSync(cpuFile, 'utf8').trim().split(/\s+/).map(Number)
      resolve((user + system) * 1000)
    })
    child.stdin.end(input)
  })
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function upstream() {
  const selfsigned = require('selfsigned')
  const pems = await selfsigned.generate([{name: 'commonName', value: 'api.openai.com'}], {keyType: 'ec', algorithm: 'sha256', days: 1, extensions: [{name: 'subjectAltName', altNames: [{type: 2, value: 'api.openai.com'}]}]})
  const server = https.createServer({key: pems.private, cert: pems.cert}, (req, res) => {
    req.resume()
    req.on('end', () => res.end('{"object":"list","data":[]}'))
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return {server, port: server.address().port, cert: pems.cert}
}

async function main(quick = process.argv.includes('--quick')) {
  const rounds = quick ? 6 : 20
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-bench-plugins-'))
  const up = await upstream()
  const caPath = path.join(base, 'ca.pem')
  fs.writeFileSync(caPath, up.cert)
  const common = {
    PATH: process.env.PATH,
    HOME: base,
    AIVAULT_DIR: path.join(base, 'vault'),
    AIVAULT_KEYS_DIR: path.join(base, 'keys'),
    AIVAULTD_DISABLE: '1',
    AIVAULT_DEV_RESOLVE: `api.openai.com=127.0.0.1:${up.port}`,
    AIVAULT_DEV_CA_CERT_PATH: caPath,
    AIVAULT_DEV_ALLOW_PRIVATE_UPSTREAMS: '1',
  }
  const without = {...common, AIVAULT_DATA_DIR: path.join(base, 'data-empty'), AIVAULTD_SOCKET: path.join(base, 'd1.sock')}
  const withPlugin = {...common, AIVAULT_DATA_DIR: path.join(base, 'data-example'), AIVAULTD_SOCKET: path.join(base, 'd2.sock')}
  await timed([process.execPath, CLI, 'init', '--testing'], common)
  await timed([process.execPath, CLI, 'secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin'], common, 'sk-bench-plugins-0123456789')
  const linked = spawnSync(process.execPath, [CLI, 'plugins', 'link', EXAMPLE], {env: withPlugin, encoding: 'utf8'})
  if (linked.status !== 0) throw new Error(`plugins link failed: ${linked.stderr}`)
  const daemon = (env) => ({...env, AIVAULTD_DISABLE: '0', AIVAULTD_AUTOSTART: '1'})
  const invoke = [process.execPath, CLI, 'invoke', 'openai/models', '--path', '/v1/models']
  for (const env of [without, withPlugin]) await timed(invoke, daemon(env)) // start and warm each daemon
  const commands = [
    ['aivault --version', [process.execPath, CLI, '--version'], (e) => e],
    ['aivault status', [process.execPath, CLI, 'status'], (e) => e],
    ['aivault secrets list', [process.execPath, CLI, 'secrets', 'list'], (e) => e],
    ['aivault capability list', [process.execPath, CLI, 'capability', 'list'], (e) => e],
    ['aivault invoke openai/models (in-process)', invoke, (e) => e],
    ['aivault invoke openai/models (warm aivaultd)', invoke, daemon],
  ]
  const times = commands.map(() => ({without: [], with: []}))
  for (let i = 0; i < rounds; i++) {
    for (const [j, [, args, envOf]] of commands.entries()) {
      times[j].without.push(await timed(args, envOf(without)))
      times[j].with.push(await timed(args, envOf(withPlugin)))
    }
  }
  for (const env of [without, withPlugin]) await timed([process.execPath, CLI, 'daemon', 'stop'], daemon(env))
  up.server.close()
  fs.rmSync(base, {recursive: true, force: true})
  fs.rmSync(cpuFile, {force: true})
  return commands.map(([name], j) => {
    const a = median(times[j].without)
    const b = median(times[j].with)
    const unit = fs.existsSync(TIME) ? 'ms CPU' : 'ms'
    return [`${name}: no plugins → example plugin linked`, `${a.toFixed(0)} → ${b.toFixed(0)} ${unit}`, `${(b / a).toFixed(2)}×`, '≤ 1.10×']
  })
}

module.exports = {main}

if (require.main === module) {
  main().then((rows) => {
    console.log(['| measurement | medians | with ÷ without | target |', '|---|---|---|---|', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n'))
  })
}

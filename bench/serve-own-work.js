'use strict'
/**
 * `aivault serve`'s own work per request, in one process (part of bench/serve.js): serve's real
 * request handler and broker (dist/, long-lived mode, audit on) answer a passthrough GET, with
 * a fake client request and undici's dispatch answered from memory. No sockets, no TLS: what is
 * left is the token check, route match, header filtering, scrubbing, relay and audit, which the
 * end-to-end rows cannot separate from the HTTP and TLS work around them (their noise is larger
 * than it). Prints one JSON line: {perRequestMicros: [...one per round]}.
 * Usage: node serve-own-work.js [requests per round] [rounds]
 */
const {spawnSync} = require('node:child_process')
const {EventEmitter} = require('node:events')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const ROOT = path.join(__dirname, '..')
const CLI = path.join(ROOT, 'bin', 'run.js')
const DIST = path.join(ROOT, 'dist')

async function main(count = Number(process.argv[2] ?? 50_000), rounds = Number(process.argv[3] ?? 5)) {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-bench-own-'))
  const caPath = path.join(base, 'ca.pem')
  fs.writeFileSync(caPath, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n') // never used: nothing connects
  Object.assign(process.env, {
    HOME: base,
    AIVAULT_DIR: path.join(base, 'vault'),
    AIVAULT_KEYS_DIR: path.join(base, 'keys'),
    AIVAULT_DEV_RESOLVE: 'api.openai.com=127.0.0.1:9',
    AIVAULT_DEV_CA_CERT_PATH: caPath,
    AIVAULT_DEV_ALLOW_PRIVATE_UPSTREAMS: '1',
  })
  spawnSync(process.execPath, [CLI, 'init', '--testing'])
  spawnSync(process.execPath, [CLI, 'secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin'], {input: 'sk-bench-key-0123456789'})
  const token = JSON.parse(spawnSync(process.execPath, [CLI, 'token', 'mint', '--capability', 'openai/models', '--ttl', '1h', '--json']).stdout).token

  // The upstream answers from memory, on the next turn of the event loop, as undici's handler API would.
  const body = Buffer.from('{"object":"list","data":[{"id":"gpt-bench","object":"model"}]}')
  const controller = {abort() {}, pause() {}, resume() {}}
  require('undici').Pool.prototype.dispatch = function (options, handler) {
    setImmediate(() => {
      handler.onRequestStart?.(controller, {})
      handler.onResponseStart(controller, 200, {'content-type': 'application/json', 'content-length': String(body.length), date: new Date().toUTCString(), connection: 'keep-alive'}, 'OK')
      handler.onResponseData(controller, body)
      handler.onResponseEnd(controller, {})
    })
    return true
  }
  const {longLivedDeps} = require(path.join(DIST, 'broker', 'long-lived.js'))
  const {createBrokerServer} = require(path.join(DIST, 'server', 'http-server.js'))
  const deps = longLivedDeps(process.env, 100) // serve's audit group interval (src/server/serve.ts)
  const onRequest = createBrokerServer(deps, {host: '127.0.0.1', port: 0, allowRemote: false}).listeners('request')[0]
  const socket = {remoteAddress: '127.0.0.1', destroyed: false}
  let failures = 0
  const one = () =>
    new Promise((resolve) => {
      const headers = {host: '127.0.0.1:8787', 'user-agent': 'OpenAI/Python 1.0', accept: 'application/json', authorization: `Bearer ${token}`}
      const req = {url: '/v/openai/v1/models', method: 'GET', headers, socket}
      const res = Object.assign(new EventEmitter(), {req, socket, writableFinished: false, headersSent: false})
      res.writeHead = (status) => {
        if (status !== 200) failures++
        res.headersSent = true
        return res
      }
      res.end = () => {
        res.writableFinished = true
        res.emit('close')
        resolve()
      }
      onRequest(req, res)
    })
  // 32 calls in flight, as the c=32 rows.
  const run = async (n) => {
    let left = n
    await Promise.all(Array.from({length: 32}, async () => {
      while (left-- > 0) await one()
    }))
  }
  await run(count) // warm-up
  const perRequestMicros = []
  for (let round = 0; round < rounds; round++) {
    const before = process.cpuUsage()
    await run(count)
    const used = process.cpuUsage(before)
    perRequestMicros.push((used.user + used.system) / count)
  }
  await deps.vault.audit.flush()
  fs.rmSync(base, {recursive: true, force: true})
  if (failures > 0) throw new Error(`${failures} requests were not answered 200`)
  return {perRequestMicros}
}

if (require.main === module) {
  main().then(
    (result) => {
      process.stdout.write(JSON.stringify(result) + '\n')
      process.exit(0) // the vault's folder watches would keep it alive
    },
    (error) => {
      process.stderr.write(`${error.stack}\n`)
      process.exit(1)
    },
  )
}

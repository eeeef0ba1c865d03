'use strict'
/**
 * Broker benchmarks (part of npm run bench):
 * - end to end: `curl` straight to a local HTTPS upstream vs `aivault invoke` in-process
 *   (AIVAULTD_DISABLE=1) through the broker to the same upstream, vs the `node -e 0` floor;
 * - the broker's own work inside one process: path/header/host checks, auth injection and
 *   response sanitizing for 10,000 planned requests (no network, no disk).
 */
const {spawn} = require('node:child_process')
const fs = require('node:fs')
const https = require('node:https')
const os = require('node:os')
const path = require('node:path')

const CLI = path.join(__dirname, '..', 'bin', 'run.js')
const DIST = path.join(__dirname, '..', 'dist')

function timed(args, env) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(args[0], args.slice(1), {env, stdio: ['ignore', 'ignore', 'pipe']})
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (code) => (code === 0 ? resolve(Number(process.hrtime.bigint() - started) / 1e6) : reject(new Error(`${args.join(' ')}: ${code} ${stderr}`))))
  })
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function endToEnd(rounds) {
  const selfsigned = require('selfsigned')
  const pems = await selfsigned.generate([{name: 'commonName', value: 'api.openai.com'}], {keyType: 'ec', algorithm: 'sha256', days: 1, extensions: [{name: 'subjectAltName', altNames: [{type: 2, value: 'api.openai.com'}]}]})
  const server = https.createServer({key: pems.private, cert: pems.cert}, (req, res) => {
    req.resume()
    req.on('end', () => {
      res.setHeader('content-type', 'application/json')
      res.end('{"object":"list","data":[{"id":"gpt-bench"}]}')
    })
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const port = server.address().port
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-bench-invoke-'))
  const caPath = path.join(base, 'ca.pem')
  fs.writeFileSync(caPath, pems.cert)
  // The clean environment of the start-up rows: no NODE_* (see bench/common.js).
  const env = {
    PATH: process.env.PATH,
    HOME: base,
    AIVAULT_DIR: path.join(base, 'vault'),
    AIVAULT_KEYS_DIR: path.join(base, 'keys'),
    AIVAULTD_DISABLE: '1',
    AIVAULT_DEV_RESOLVE: `api.openai.com=127.0.0.1:${port}`,
    AIVAULT_DEV_CA_CERT_PATH: caPath,
    AIVAULT_DEV_ALLOW_PRIVATE_UPSTREAMS: '1',
  }
  await timed([process.execPath, CLI, 'init', '--testing'], env)
  await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin'], {env, stdio: ['pipe', 'ignore', 'inherit']})
    child.on('close', (c) => (c === 0 ? resolve() : reject(new Error('secrets create failed'))))
    child.stdin.end('sk-bench-key-0123456789')
  })
  const commands = [
    ['node -e 0 (clean floor)', [process.execPath, '-e', '0']],
    ['curl direct', ['curl', '-sS', '-o', '/dev/null', '--cacert', caPath, '--resolve', `api.openai.com:${port}:127.0.0.1`, '-H', 'authorization: Bearer sk-bench', `https://api.openai.com:${port}/v1/models`]],
    ['aivault invoke openai/models (in-process)', [process.execPath, CLI, 'invoke', 'openai/models', '--path', '/v1/models']],
    ['aivault invoke openai/models (warm aivaultd)', [process.execPath, CLI, 'invoke', 'openai/models', '--path', '/v1/models']],
  ]
  const daemonEnv = {...env, AIVAULTD_DISABLE: '0', AIVAULTD_AUTOSTART: '1'}
  await timed([process.execPath, CLI, 'invoke', 'openai/models', '--path', '/v1/models'], daemonEnv) // starts and warms the daemon
  const times = commands.map(() => [])
  for (let i = 0; i < rounds; i++) {
    for (const [j, [name, args]] of commands.entries()) times[j].push(await timed(args, name.includes('aivaultd') ? daemonEnv : env))
  }
  await timed([process.execPath, CLI, 'daemon', 'stop'], daemonEnv)
  server.close()
  fs.rmSync(base, {recursive: true, force: true})
  const floor = median(times[0])
  const curl = median(times[1])
  return commands.map(([name], j) => [name, `${median(times[j]).toFixed(0)} ms`, `${(median(times[j]) / floor).toFixed(2)}× floor, ${(median(times[j]) / curl).toFixed(2)}× curl`, name.includes('aivaultd') ? '≤ 1.4× floor' : name.startsWith('aivault') ? '≤ 2.5× floor' : ''])
}

function brokerWork(count) {
  const {normalizeTarget, pathMatchesPrefix} = require(path.join(DIST, 'broker', 'request', 'path.js'))
  const {filterRequestHeaders, isDroppedResponseHeader} = require(path.join(DIST, 'broker', 'request', 'headers.js'))
  const {effectiveHost} = require(path.join(DIST, 'broker', 'credential', 'hosts.js'))
  const {applyAuth, injectedNames} = require(path.join(DIST, 'broker', 'auth', 'index.js'))
  const {scrubText, secretSpellings} = require(path.join(DIST, 'broker', 'response', 'scrub.js'))
  const {encodeQuery} = require(path.join(DIST, 'broker', 'request', 'path.js'))
  const auth = {header: {header_name: 'authorization', value_template: 'Bearer {{secret}}'}}
  const credential = {id: 'openai', provider: 'openai', auth, hosts: ['api.openai.com'], secrets: {secret: 'x'}, binding: null}
  const capability = {id: 'openai/chat-completions', provider: 'openai', allow: {hosts: ['api.openai.com'], methods: ['POST'], pathPrefixes: ['/v1/chat/completions']}}
  const material = {values: {secret: 'sk-bench-key-0123456789abcdef'}}
  const responseHeaders = ['content-type', 'application/json', 'set-cookie', 'a=b', 'x-request-id', 'r1', 'connection', 'close']
  const body = '{"id":"chatcmpl-1","choices":[{"message":{"role":"assistant","content":"hello there, this is a typical short reply"}}]}'
  const run = async () => {
    const started = process.hrtime.bigint()
    for (let i = 0; i < count; i++) {
      const target = normalizeTarget('/v1/chat/completions?stream=false&n=1')
      if (!pathMatchesPrefix(target.segments, '/v1/chat/completions')) throw new Error('prefix')
      const injected = injectedNames(auth)
      const headers = filterRequestHeaders([{name: 'content-type', value: 'application/json'}, {name: 'x-trace', value: String(i)}], injected.headers)
      const {host, port} = effectiveHost(credential, capability, false)
      const request = {method: 'POST', host, port, path: target.path, query: target.query, headers, body: Buffer.from(body)}
      const injection = await applyAuth(auth, {material, request, now: new Date()})
      const spellings = secretSpellings([...Object.values(material.values), ...injection.redact])
      const url = scrubText(`https://${host}${target.path}?${encodeQuery([...target.query, ...injection.query])}`, spellings)
      const kept = []
      for (let h = 0; h < responseHeaders.length; h += 2) if (!isDroppedResponseHeader(responseHeaders[h], injected.headers)) kept.push(responseHeaders[h])
      if (scrubText(body, spellings).length === 0 || url.length === 0 || kept.length !== 2) throw new Error('sanity')
    }
    return Number(process.hrtime.bigint() - started) / 1e3 / count
  }
  return run
}

async function main(quick = process.argv.includes('--quick')) {
  const rows = await endToEnd(quick ? 5 : 15)
  const micro = brokerWork(10000)
  await micro() // warm up
  const perRequest = await micro()
  rows.push(['broker work per planned request (10,000 in one process)', `${perRequest.toFixed(1)} µs`, '', '< 50 µs'])
  return rows
}

module.exports = {main}

if (require.main === module) {
  main().then((rows) => {
    console.log(['| measurement | median | ratio | target |', '|---|---|---|---|', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n'))
  })
}

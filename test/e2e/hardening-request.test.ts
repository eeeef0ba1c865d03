/**
 * The request side, hardened (SPEC §7, issue 12 items 9, 19 and 20), on every entry point:
 * in-process invoke, aivaultd (the thin client) and `aivault serve`.
 * - Segments lenient servers read as dot segments (`..;`, `.;x`) are refused, redirect hops too;
 *   re-routing caller headers (method overrides, x-original-url, x-forwarded-*, ...) never
 *   reach the upstream.
 * - A caller that goes away aborts its upstream request: the upstream sees its stalled
 *   connections closed, and the next call is served (the pool is not exhausted). The envelope's
 *   timeout is capped at 10 minutes.
 * - A chunked upload over serve's 64 MiB limit sent as curl sends it (`Expect: 100-continue`)
 *   is a 413 body_too_large, not a 502.
 */
import * as assert from 'node:assert/strict'
import {spawn, type ChildProcess} from 'node:child_process'
import * as http from 'node:http'

import {CLI, TempVault, expectHumanError, expectJsonError, mapLimit} from './fixture'
import {assertProblem, mint, request, startServe, type Minted, type Reply, type Served} from './serve-helpers'
import {echo, redirect, resolveEnv, startUpstream, type RecordedRequest, type Upstream} from './upstream'

const OPENAI_KEY = 'sk-hardening-request-SECRET-0123456789'

/** The headers SPEC §7 step 8 (hardened) drops, as a caller would spell them. */
const REROUTING_HEADERS: Record<string, string> = {
  'X-HTTP-Method-Override': 'DELETE',
  'X-HTTP-Method': 'DELETE',
  'X-Method-Override': 'DELETE',
  'X-Original-URL': '/admin/keys',
  'X-Rewrite-URL': '/admin/keys',
  'X-Forwarded-Host': 'evil.example.net',
  'X-Forwarded-For': '10.0.0.1',
  'X-Forwarded-Proto': 'http',
  'X-Forwarded-Prefix': '/admin',
  Forwarded: 'for=10.0.0.1;host=evil.example.net',
  'X-Real-IP': '10.0.0.1',
}

const DOT_SEGMENT_PATHS = ['/v1/models/..;/..;/files', '/v1/models/x/..;', '/v1/models/.;/x', '/v1/models/%2e%2e;/files', '/v1/models/..%3b/files', '/v1/models/..;jsessionid=1/x']

/** Poll until `condition` holds; fail naming what was still wrong (a condition, not a timing). */
async function waitFor(condition: () => boolean, describe: () => string, limitMs = 60_000): Promise<void> {
  const deadline = Date.now() + limitMs
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(describe())
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

function rerouting(headers: Record<string, string>): string[] {
  const names = new Set(Object.keys(REROUTING_HEADERS).map((n) => n.toLowerCase()))
  return Object.keys(headers).filter((name) => names.has(name) || name.startsWith('x-forwarded-') || name === 'expect')
}

/**
 * An upstream route that never answers, and the upstream's own count of those requests: how
 * many arrived, and how many are still open (their connection not yet closed by the broker).
 */
function stallingRoute(up: Upstream, path: string) {
  const count = {arrived: 0, open: 0}
  up.route('GET', path, (_req, _res, signal) => {
    count.arrived++
    count.open++
    signal.addEventListener('abort', () => count.open--)
  })
  return count
}

describe('e2e hardening: the request side (SPEC §7, issue 12 items 9, 19, 20)', function () {
  this.timeout(300_000)
  let up: Upstream
  let tv: TempVault
  let env: Record<string, string>
  let served: Served
  let token: Minted

  const inProcess = (args: string[]) => tv.runAsync(['invoke', ...args], {env: {...env, AIVAULTD_DISABLE: '1'}})
  const viaDaemon = (args: string[]) => tv.runAsync(['invoke', ...args], {env: {...env, AIVAULTD_AUTOSTART: '1'}})
  const spawnInvoke = (args: string[], extra: Record<string, string>): ChildProcess =>
    spawn(process.execPath, [CLI, 'invoke', ...args], {env: {...tv.env, ...env, ...extra}, cwd: tv.base, stdio: 'ignore'})

  before(async () => {
    up = await startUpstream()
    env = resolveEnv(up)
    tv = new TempVault()
    tv.ok(['init', '--testing'])
    tv.createSecret('OPENAI_API_KEY', OPENAI_KEY)
    token = await mint(tv, ['openai/models', 'openai/chat-completions'])
    served = await startServe(tv, env)
    // The daemon starts once, here, so no test below waits on its start.
    const warm = await viaDaemon(['openai/models', '--path', '/v1/models/warm'])
    assert.equal(warm.status, 0, warm.stderr)
  })

  beforeEach(() => {
    up.reset()
    up.route('*', '/', echo())
  })

  after(async () => {
    if (tv) await tv.runAsync(['daemon', 'stop'], {env})
    await served?.stop()
    await up?.close()
    tv?.dispose()
  })

  describe('item 9: what lenient upstreams re-interpret', () => {
    it('re-routing headers never reach the upstream: in-process, through aivaultd and through serve', async () => {
      const flags = Object.entries(REROUTING_HEADERS).flatMap(([name, value]) => ['-H', `${name}=${value}`])
      const calls = [
        inProcess(['openai/models', '--path', '/v1/models/in-process', ...flags, '-H', 'X-Kept=yes']),
        viaDaemon(['openai/models', '--path', '/v1/models/daemon', ...flags, '-H', 'X-Kept=yes']),
        request(`${served.base}/v/openai/v1/models/serve`, {headers: {...REROUTING_HEADERS, authorization: `Bearer ${token.token}`, 'x-kept': 'yes'}}).then((r: Reply) => ({status: r.status === 200 ? 0 : r.status, stdout: r.body, stderr: ''})),
      ]
      for (const result of await Promise.all(calls)) assert.equal(result.status, 0, result.stdout + result.stderr)
      const seen = new Map(up.requests.map((r: RecordedRequest) => [r.pathname, r]))
      for (const path of ['/v1/models/in-process', '/v1/models/daemon', '/v1/models/serve']) {
        const got = seen.get(path)
        assert.ok(got, `the upstream never saw ${path}`)
        assert.deepEqual(rerouting(got.headers), [], `${path} reached the upstream with re-routing headers`)
        assert.equal(got.headers['x-kept'], 'yes', `${path}: an ordinary header was lost`)
        assert.equal(got.method, 'GET')
      }
    })

    it('"..;" and ".;" segments are refused before any request: in-process, through aivaultd and through serve', async () => {
      const invokes = await mapLimit(DOT_SEGMENT_PATHS.flatMap((p) => [inProcess, viaDaemon].map((run) => ({p, run}))), 4, ({p, run}) => run(['openai/models', '--path', p, '--json']))
      for (const result of invokes) expectJsonError(result, 1, 'policy_violation')
      for (const p of DOT_SEGMENT_PATHS) {
        const reply = await request(`${served.base}/`, {rawPath: `/v/openai${p}`, headers: {authorization: `Bearer ${token.token}`}})
        assertProblem(reply, 403, 'policy_violation', p)
      }
      assert.deepEqual(up.requests.map((r) => r.path), [], 'a refused path reached the upstream')
    })

    it('a redirect hop to a "..;" path is refused (--follow-redirects re-validates it)', async () => {
      up.route('GET', '/v1/models/hop', redirect(302, '/v1/models/..;/..;/files'))
      const results = await Promise.all([inProcess, viaDaemon].map((run) => run(['openai/models', '--path', '/v1/models/hop', '--follow-redirects', '--json'])))
      for (const result of results) expectJsonError(result, 1, 'policy_violation')
      assert.deepEqual(up.requests.map((r) => r.pathname), ['/v1/models/hop', '/v1/models/hop'], 'the redirect target was requested')
    })
  })

  describe('item 19: a caller that goes away aborts its upstream request', () => {
    it('serve: 140 callers that disconnect while the upstream stalls leave no upstream connection behind, and the next call is served', async () => {
      const stalled = stallingRoute(up, '/v1/models/stall')
      const callers: http.ClientRequest[] = []
      for (let i = 0; i < 140; i++) {
        const req = http.request({host: '127.0.0.1', port: served.port, path: `/v/openai/v1/models/stall?n=${i}`, headers: {authorization: `Bearer ${token.token}`}, agent: false})
        req.on('error', () => {})
        req.end()
        callers.push(req)
      }
      // All of them reach the upstream at once: none waits behind the others for a connection.
      await waitFor(() => stalled.arrived === 140, () => `the upstream saw ${stalled.arrived} of 140 concurrent calls: the rest wait for a pooled connection`)
      for (const req of callers) req.destroy()
      await waitFor(() => stalled.open === 0, () => `the upstream still holds ${stalled.open} of 140 requests whose callers went away`)
      const next = await request(`${served.base}/v/openai/v1/models/after`, {headers: {authorization: `Bearer ${token.token}`}})
      assert.equal(next.status, 200, next.body)
      assert.equal(served.proc.exitCode, null, served.output())
    })

    it('serve: a caller that leaves mid-stream ends the upstream response too', async () => {
      const stalled = {arrived: 0, open: 0}
      up.route('GET', '/v1/models/trickle', (_req, res, signal) => {
        stalled.arrived++
        stalled.open++
        signal.addEventListener('abort', () => stalled.open--)
        res.writeHead(200, {'content-type': 'text/event-stream'})
        // Longer than the scrubber holds back at a chunk's end, so the caller gets some of it at once.
        res.write(`data: ${'x'.repeat(16 << 10)}\n\n`)
      })
      const req = http.request({host: '127.0.0.1', port: served.port, path: '/v/openai/v1/models/trickle', headers: {authorization: `Bearer ${token.token}`}, agent: false})
      req.on('error', () => {})
      const firstChunk = new Promise<void>((resolve) => req.on('response', (res) => res.once('data', () => resolve())))
      req.end()
      await firstChunk
      req.destroy()
      await waitFor(() => stalled.open === 0, () => 'the upstream response stayed open after its caller left')
    })

    it('aivaultd: thin clients that are interrupted or killed have their upstream requests aborted, and the next call is served', async () => {
      const stalled = stallingRoute(up, '/v1/models/stall-daemon')
      const children = Array.from({length: 6}, (_, i) => spawnInvoke(['openai/models', '--path', `/v1/models/stall-daemon/${i}`], {AIVAULTD_AUTOSTART: '1'}))
      try {
        await waitFor(() => stalled.arrived === 6, () => `the upstream saw ${stalled.arrived} of 6 calls`)
      } finally {
        for (const [i, child] of children.entries()) child.kill(i % 2 === 0 ? 'SIGINT' : 'SIGKILL')
      }
      await waitFor(() => stalled.open === 0, () => `the upstream still holds ${stalled.open} of 6 requests whose callers are gone`)
      const next = await viaDaemon(['openai/models', '--path', '/v1/models/after-daemon'])
      assert.equal(next.status, 0, next.stderr)
    })

    it('in-process: an interrupted invoke closes its upstream connection (the process ends with it)', async () => {
      const stalled = stallingRoute(up, '/v1/models/stall-cli')
      const children = Array.from({length: 2}, (_, i) => spawnInvoke(['openai/models', '--path', `/v1/models/stall-cli/${i}`], {AIVAULTD_DISABLE: '1'}))
      try {
        await waitFor(() => stalled.arrived === 2, () => `the upstream saw ${stalled.arrived} of 2 calls`)
      } finally {
        for (const child of children) child.kill('SIGINT')
      }
      await waitFor(() => stalled.open === 0, () => `the upstream still holds ${stalled.open} of 2 requests whose processes were interrupted`)
    })

    it('the envelope timeout is capped at 10 minutes: over it is refused, at it is accepted', async () => {
      const envelope = (timeoutMs: number) => JSON.stringify({capability: 'openai/models', request: {method: 'GET', path: '/v1/models/timeout'}, timeoutMs})
      const post = (timeoutMs: number) =>
        request(`${served.base}/aivault/proxy`, {method: 'POST', headers: {authorization: `Bearer ${token.token}`, 'content-type': 'application/json'}, body: envelope(timeoutMs)})
      const over = await post(600_001)
      assertProblem(over, 400, 'invalid_request', 'timeoutMs 600001')
      assert.match(JSON.parse(over.body).detail, /600000 ms \(10 minutes\)/)
      assert.equal((await post(600_000)).status, 200)
      for (const run of [inProcess, viaDaemon]) {
        const flag = await run(['openai/models', '--path', '/v1/models/timeout', '--timeout-ms', '600001'])
        assert.match(expectHumanError(flag, 2), /600000/)
      }
      assert.deepEqual(up.requests.map((r) => r.path), ['/v1/models/timeout'], 'only the call within the cap was sent')
    })
  })

  describe('item 20: uploads through serve', () => {
    /** A chunked upload the way curl sends one: `Expect: 100-continue`, the body after the interim answer. */
    function curlStyleUpload(bytes: number): Promise<Reply> {
      return new Promise((resolve, reject) => {
        let answered = false
        const req = http.request({host: '127.0.0.1', port: served.port, path: '/v/openai/v1/chat/completions', method: 'POST', agent: false,
          headers: {authorization: `Bearer ${token.token}`, 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked', expect: '100-continue'}})
        req.on('response', (res) => {
          answered = true
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8')}))
          res.on('error', reject)
        })
        // Once the server answers, it may close while the rest is still being written.
        req.on('error', (error) => answered || reject(error))
        req.on('continue', async () => {
          const block = Buffer.alloc(1 << 20, 'u')
          for (let sent = 0; sent < bytes && !answered && !req.destroyed; sent += block.length) {
            if (!req.write(block.subarray(0, Math.min(block.length, bytes - sent)))) await new Promise((r) => req.once('drain', r))
          }
          if (!req.destroyed) req.end()
        })
      })
    }

    it('a chunked upload with Expect: 100-continue goes upstream without the expect header', async () => {
      const reply = await curlStyleUpload(3 << 20)
      assert.equal(reply.status, 200, reply.body.slice(0, 300))
      const got = up.last()
      assert.equal(got?.body.length, 3 << 20)
      assert.equal(got?.headers.expect, undefined)
    })

    it('a chunked upload over 64 MiB is refused with 413 body_too_large', async () => {
      const reply = await curlStyleUpload((64 << 20) + (1 << 20))
      assertProblem(reply, 413, 'body_too_large', 'a 65 MiB chunked upload')
      assert.ok(up.requests.every((r) => r.body.length <= 64 << 20), 'more than the limit reached the upstream')
      assert.equal(served.proc.exitCode, null, served.output())
    })
  })
})

/**
 * Every refusal is audited (SPEC §15 Audit, hardened; issue 12 item 21): a call refused before
 * the broker (envelope, flags, context), by the broker's policy, by aivaultd (a bad frame, an
 * op the shared socket does not offer) or by `aivault serve` (401 token, 403 scope, 404 and
 * 400 before the broker) leaves exactly one event, so N calls leave N events. No token and no
 * secret is ever in the log.
 */
import * as assert from 'node:assert/strict'
import {spawn, type ChildProcess} from 'node:child_process'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as path from 'node:path'

import {REPO_ROOT, TempVault, assertNoSecrets, auditEvents, auditFilesText, expectJsonError, killDaemonsUnder, parseJson, useTempVault, waitForExit} from './fixture'
import {assertProblem, mint, request, startServe, type Served} from './serve-helpers'
import {resolveEnv, startUpstream, type Upstream} from './upstream'

const KEY = 'sk-hardening-audit-SECRET-0123456789'

/** Every audit event (auditEvents also parses the `head` file, which is no event). */
const allEvents = (tv: TempVault) => auditEvents(tv).filter((e) => typeof e.kind === 'string')
/** The events written since `before` events existed (the log only grows). */
const since = (tv: TempVault, before: number) => allEvents(tv).slice(before)

/** One frame to a daemon socket and its first reply. */
function frame(socket: string, body: Record<string, unknown>): Promise<{ok: boolean; value?: any; error?: {code: string; message: string}}> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(socket)
    let buffer = ''
    conn.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8')
      const at = buffer.indexOf('\n')
      if (at === -1) return
      conn.destroy()
      resolve(JSON.parse(buffer.slice(0, at)))
    })
    conn.once('error', reject)
    conn.once('connect', () => conn.write(JSON.stringify(body) + '\n'))
  })
}

describe('e2e hardening: every refusal leaves one audit event', function () {
  this.timeout(120_000)
  let up: Upstream
  let tv: TempVault
  let env: Record<string, string>

  before(async () => {
    up = await startUpstream()
    env = resolveEnv(up)
    tv = new TempVault()
    tv.ok(['init', '--testing'])
    tv.createSecret('OPENAI_API_KEY', KEY)
  })

  after(async () => {
    await up?.close()
    tv?.dispose()
  })

  describe('in-process invoke (AIVAULTD_DISABLE=1)', () => {
    const invoke = (args: string[]) => tv.runAsync(['invoke', ...args, '--json'], {env: {...env, AIVAULTD_DISABLE: '1'}})

    it('N calls, N capability.invoke events: refusals in the CLI, in the envelope and in the broker each log one, with their error', async () => {
      const calls: Array<{args: string[]; exit: number; error?: string}> = [
        {args: ['openai/models', '--path', '/v1/models/ok'], exit: 0},
        // Refused while the CLI builds the envelope (these used to log nothing):
        {args: ['openai/models', '--request', JSON.stringify({method: 'GET', path: '/v1/models', url: 'https://evil.example.net/'})], exit: 1, error: 'policy_violation'},
        {args: ['openai/models', '--request', JSON.stringify({method: 'G E T', path: '/v1/models'})], exit: 1, error: 'invalid_request'},
        {args: ['openai/models', '--header', 'no-equals-sign'], exit: 2, error: 'invalid_request'},
        {args: ['openai/models', '--group-id', 'g1'], exit: 2, error: 'invalid_request'},
        // Refused by the broker's policy before any request:
        {args: ['openai/models', '--path', '/v1/models/%2e%2e/admin'], exit: 1, error: 'policy_violation'},
        {args: ['openai/models', '--method', 'PUT', '--path', '/v1/models'], exit: 1, error: 'policy_violation'},
        {args: ['openai/no-such-capability'], exit: 1, error: 'capability_not_found'},
      ]
      const sent = up.requests.length
      const before = allEvents(tv).length
      for (const call of calls) {
        const result = await invoke(call.args)
        if (call.exit === 0) assert.equal(result.status, 0, result.stdout + result.stderr)
        else expectJsonError(result, call.exit, call.error)
      }
      assert.equal(up.requests.length, sent + 1, 'only the allowed call reached the upstream')
      const events = since(tv, before)
      assert.deepEqual(events.map((e) => e.kind), calls.map(() => 'capability.invoke'), JSON.stringify(events, null, 1))
      assert.deepEqual(events.map((e) => e.error), calls.map((c) => c.error), JSON.stringify(events, null, 1))
      assert.equal(events[0].status, 200)
      for (const [i, e] of events.entries()) assert.equal(typeof e.durationMs, 'number', `event ${i} has durationMs`)
      assert.equal(events[1].capability, 'openai/models')
      assertNoSecrets({audit: auditFilesText(tv)}, [KEY])
    })

    it('a refused call names its context in the event, but never a name that breaks its rule', async () => {
      const before = allEvents(tv).length
      const long = 'w'.repeat(300)
      expectJsonError(await invoke(['openai/models', '--request', '{"url":"https://evil.example.net"}', '--workspace-id', 'w1', '--consumer', 'agent-7']), 1, 'policy_violation')
      expectJsonError(await invoke(['openai/models', '--workspace-id', long]), 2, 'invalid_request')
      const [named, tooLong] = since(tv, before)
      assert.equal(named.workspaceId, 'w1')
      assert.equal(named.consumer, 'agent-7')
      assert.equal(tooLong.kind, 'capability.invoke')
      assert.equal('workspaceId' in tooLong, false, JSON.stringify(tooLong))
    })
  })

  describe('aivaultd', () => {
    let socket: string
    const daemonEnv = () => ({...env, AIVAULTD_AUTOSTART: '1', AIVAULTD_IDLE_EXIT_MS: '60000'})

    before(async () => {
      const started = await tv.runAsync(['daemon', 'restart', '--json'], {env: daemonEnv()})
      assert.equal(started.status, 0, started.stdout + started.stderr)
      socket = parseJson<any>(started).socket
    })

    after(async () => {
      await tv.runAsync(['daemon', 'stop'], {env: daemonEnv()})
      await killDaemonsUnder(tv.base)
    })

    it('a frame whose envelope or context is refused logs one capability.invoke with the error', async () => {
      const before = allEvents(tv).length
      const smuggled = await frame(socket, {id: 1, op: 'execute', envelope: {capability: 'openai/models', request: {method: 'GET', path: '/v1/models', url: 'https://evil.example.net'}}, context: {}})
      assert.equal(smuggled.error?.code, 'policy_violation', JSON.stringify(smuggled))
      const badContext = await frame(socket, {id: 2, op: 'execute', envelope: {capability: 'openai/models', request: {method: 'GET', path: '/v1/models'}}, context: {consumer: 'x'.repeat(300)}})
      assert.equal(badContext.error?.code, 'invalid_request', JSON.stringify(badContext))
      const traversal = await frame(socket, {id: 3, op: 'execute', envelope: {capability: 'openai/models', request: {method: 'GET', path: '/v1/models/../x'}}, context: {}})
      assert.equal(traversal.error?.code, 'policy_violation', JSON.stringify(traversal))
      const events = since(tv, before)
      assert.deepEqual(events.map((e) => [e.kind, e.error]), [['capability.invoke', 'policy_violation'], ['capability.invoke', 'invalid_request'], ['capability.invoke', 'policy_violation']])
      assert.ok(events.every((e) => e.capability === 'openai/models'), JSON.stringify(events))
      assert.equal('consumer' in events[1], false, 'an over-long consumer is not copied into the log')
    })

    it('through the CLI (thin client and full CLI): N calls, N events', async () => {
      const before = allEvents(tv).length
      const sent = up.requests.length
      const results = [
        await tv.runAsync(['invoke', 'openai/models', '--path', '/v1/models/daemon-ok'], {env: daemonEnv()}),
        await tv.runAsync(['invoke', 'openai/models', '--path', '/v1/models/%2e%2e/x'], {env: daemonEnv()}),
        await tv.runAsync(['invoke', 'openai/models', '--request', '{"url":"https://evil.example.net"}', '--json'], {env: daemonEnv()}),
      ]
      assert.deepEqual(results.map((r) => r.status), [0, 1, 1], results.map((r) => r.stdout + r.stderr).join('\n'))
      assert.equal(up.requests.length, sent + 1)
      const events = since(tv, before)
      assert.deepEqual(events.map((e) => [e.kind, e.error]), [['capability.invoke', undefined], ['capability.invoke', 'policy_violation'], ['capability.invoke', 'policy_violation']])
    })
  })

  describe('aivaultd --shared', () => {
    let daemon: ChildProcess | undefined

    after(async () => {
      if (daemon?.pid !== undefined && daemon.exitCode === null) {
        daemon.kill('SIGTERM')
        if (!(await waitForExit(daemon.pid, 3000))) daemon.kill('SIGKILL')
      }
    })

    it('an op the shared socket does not offer is refused and logged as access.denied', async () => {
      const socket = path.join(tv.base, 'sd', 'aivaultd.sock')
      const shared = path.join(tv.base, 'sd', 'shared', 'aivaultd.sock')
      daemon = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'aivaultd.js'), '--socket', socket, '--shared'], {env: {...tv.env, ...env}, stdio: 'ignore'})
      const deadline = Date.now() + 10_000
      while (!(fs.existsSync(shared) && (await frame(shared, {id: 0, op: 'health'}).then((r) => r.ok, () => false)))) {
        if (daemon.exitCode !== null || Date.now() > deadline) throw new Error(`aivaultd --shared did not start (exit ${daemon.exitCode})`)
        await new Promise((r) => setTimeout(r, 50))
      }
      const before = allEvents(tv).length
      const reply = await frame(shared, {id: 1, op: 'lock'})
      assert.equal(reply.error?.code, 'policy_violation', JSON.stringify(reply))
      const events = since(tv, before)
      assert.equal(events.length, 1, JSON.stringify(events))
      assert.deepEqual({kind: events[0].kind, via: events[0].via, op: events[0].op, error: events[0].error}, {kind: 'access.denied', via: 'aivaultd', op: 'lock', error: 'policy_violation'})
    })
  })

  describe('aivault serve', () => {
    let serve: Served
    let models: {id: string; token: string}
    let revoked: {id: string; token: string}

    before(async () => {
      ;[models, revoked] = await Promise.all([mint(tv, ['openai/models']), mint(tv, ['openai/models'])])
      tv.ok(['token', 'revoke', revoked.id])
      serve = await startServe(tv, env)
    })

    after(async () => {
      await serve?.stop()
    })

    it('401 (missing, unknown, revoked token) and 403 (scope) each log one access.denied; the token itself never', async () => {
      const before = allEvents(tv).length
      const v = (rest: string) => `${serve.base}/v/openai${rest}`
      const unknownToken = `avp_${'x'.repeat(43)}`
      const replies = [
        await request(v('/v1/models')),
        await request(v('/v1/models'), {headers: {authorization: `Bearer ${unknownToken}`}}),
        await request(v('/v1/models'), {headers: {authorization: `Bearer ${revoked.token}`}}),
        await request(`${serve.base}/aivault/proxy`, {method: 'POST', body: JSON.stringify({capability: 'openai/models', request: {method: 'GET', path: '/v1/models'}})}),
        await request(v('/v1/chat/completions'), {method: 'POST', headers: {authorization: `Bearer ${models.token}`, 'content-type': 'application/json'}, body: '{}'}),
        await request(`${serve.base}/aivault/proxy`, {method: 'POST', headers: {authorization: `Bearer ${models.token}`}, body: JSON.stringify({capability: 'openai/chat-completions', request: {method: 'POST', path: '/v1/chat/completions', body: '{}'}})}),
      ]
      for (const reply of replies.slice(0, 4)) assertProblem(reply, 401, 'token_invalid')
      for (const reply of replies.slice(4)) assertProblem(reply, 403, 'policy_violation')
      const events = since(tv, before)
      assert.deepEqual(events.map((e) => [e.kind, e.error]), [...Array(4).fill(['access.denied', 'token_invalid']), ...Array(2).fill(['access.denied', 'policy_violation'])], JSON.stringify(events, null, 1))
      for (const e of events) {
        assert.equal(e.via, 'serve')
        assert.match(String(e.clientIp), /^(::ffff:)?127\.0\.0\.1$/)
      }
      assert.equal(events[2].tokenId, revoked.id, 'a revoked token is named by its id')
      assert.equal('tokenId' in events[1], false, 'an unknown token has no id to log')
      assert.equal(events[4].tokenId, models.id)
      assert.equal(events[4].capability, 'openai/chat-completions')
      assert.equal(events[5].capability, 'openai/chat-completions')
      assertNoSecrets({audit: auditFilesText(tv)}, [KEY, models.token, revoked.token, unknownToken])
    })

    it('a request refused before the broker for what it asks (404, 400) logs one capability.invoke with the error', async () => {
      const before = allEvents(tv).length
      const sent = up.requests.length
      const auth = {authorization: `Bearer ${models.token}`}
      const replies = [
        await request(`${serve.base}/v/no-such-credential/v1/models`, {headers: auth}),
        await request(`${serve.base}/aivault/proxy`, {method: 'POST', headers: auth, body: 'not json'}),
        await request(`${serve.base}/v/openai/v1/no-capability-here`, {headers: auth}),
      ]
      assertProblem(replies[0], 404, 'credential_not_found')
      assertProblem(replies[1], 400, 'invalid_request')
      assertProblem(replies[2], 403, 'policy_violation')
      assert.equal(up.requests.length, sent)
      const events = since(tv, before)
      assert.deepEqual(events.map((e) => [e.kind, e.error]), [['capability.invoke', 'credential_not_found'], ['capability.invoke', 'invalid_request'], ['capability.invoke', 'policy_violation']])
      assert.ok(events.every((e) => e.tokenId === models.id && typeof e.durationMs === 'number'), JSON.stringify(events))
      assert.equal(events[0].credential, 'no-such-credential')
    })

    it('an allowed call still logs exactly one event (the broker\'s own)', async () => {
      const before = allEvents(tv).length
      const reply = await request(`${serve.base}/v/openai/v1/models`, {headers: {authorization: `Bearer ${models.token}`}})
      assert.equal(reply.status, 200, reply.body)
      let events = since(tv, before)
      // The event of an answered call is written once its body has been relayed.
      for (let i = 0; i < 50 && events.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 100))
        events = since(tv, before)
      }
      assert.deepEqual(events.map((e) => [e.kind, e.status, e.error]), [['capability.invoke', 200, undefined]])
    })
  })
})

describe('e2e hardening: aivault demo counts every call in the audit log', function () {
  this.timeout(120_000)
  const vault = useTempVault()

  it('5 calls (1 answered, 4 refused) leave 5 capability.invoke events, and the tour says so', async () => {
    const json = await vault().runAsync(['demo', '--json'])
    assert.equal(json.status, 0, json.stderr)
    const out = parseJson<any>(json)
    assert.equal(out.refused.length, 4)
    assert.deepEqual(out.audited, {calls: 5, events: 5, answered: 1, refused: 4})
    const human = await vault().runAsync(['demo'])
    assert.equal(human.status, 0, human.stderr)
    assert.match(human.stdout, /^ {3}5 calls, 5 capability\.invoke events: 1 answered, 4 refused; /m)
  })
})

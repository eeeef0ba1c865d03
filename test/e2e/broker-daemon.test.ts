/**
 * The broker guarantees hold when `invoke` is served by an autostarted aivaultd (SPEC §7
 * "every entry point", §10): auth injection and scrubbing, refusals before any request,
 * streaming, cross-process rate limits and the OAuth token cache shared with in-process calls.
 */
import * as assert from 'node:assert/strict'
import {spawn} from 'node:child_process'

import {CLI, TempVault, expectJsonError, parseJson} from './fixture'
import {oauthToken, resolveEnv, sse, startUpstream, type RecordedRequest, type Upstream} from './upstream'

const KEY = 'sk-daemon-e2e-SECRET-0123456789'
const OAUTH = {clientId: 'daemon-client', clientSecret: 'daemon-client-SECRET-abcdef', refreshToken: 'daemon-refresh-SECRET-abcdef'}

describe('e2e broker: through aivaultd', function () {
  this.timeout(120_000)
  let up: Upstream
  let tv: TempVault
  let env: Record<string, string>
  const tokens = oauthToken({accessToken: (n) => `daemon-access-${n}-SECRET-xyz`})
  const invoke = (args: string[], extra: Record<string, string> = {}) => tv.runAsync(['invoke', ...args], {env: {...env, ...extra}})

  before(async () => {
    up = await startUpstream()
    // The autostarted daemon inherits this environment (SPEC §15), test overrides included.
    env = {...resolveEnv(up), AIVAULTD_AUTOSTART: '1'}
    tv = new TempVault()
    delete tv.env.AIVAULTD_DISABLE
    tv.ok(['init', '--testing'])
    tv.createSecret('OPENAI_API_KEY', KEY)
    const oauthId = tv.createSecret('DAEMON_OAUTH', JSON.stringify(OAUTH))
    tv.ok(['credential', 'create', 'dmn', '--provider', 'dmn', '--secret-ref', `vault:secret:${oauthId}`, '--auth', 'oauth2', '--grant-type', 'refresh_token',
      '--token-endpoint', 'https://auth.example.com/token', '--host', 'api.example.com', '--host', 'auth.example.com'])
    tv.ok(['capability', 'create', 'dmn/cap', '--credential', 'dmn', '--method', 'GET', '--path', '/v1', '--host', 'api.example.com'])
    up.route('POST', '/token', tokens, {host: 'auth.example.com'})
    const first = await invoke(['openai/models', '--path', '/v1/models/start', '--json'])
    assert.equal(first.status, 0, first.stdout + first.stderr)
  })

  after(async () => {
    if (tv) await tv.runAsync(['daemon', 'stop'], {env})
    await up?.close()
    tv?.dispose()
  })

  it('the first invoke autostarted the daemon', async () => {
    const status = parseJson(await tv.runAsync(['daemon', 'status', '--json'], {env}))
    assert.equal(status.running, true)
    assert.equal(typeof status.pid, 'number')
  })

  it('injects the key, scrubs the echo and prints the body only', async () => {
    const before = up.requests.length
    const [raw, asJson] = await Promise.all([invoke(['openai/models', '--path', '/v1/models/raw']), invoke(['openai/models', '--path', '/v1/models/json', '--json'])])
    assert.equal(raw.status, 0, raw.stderr)
    assert.equal(JSON.parse(raw.stdout).headers.authorization, 'Bearer [REDACTED]')
    assert.deepEqual(parseJson(asJson).planned, {capability: 'openai/models', credential: 'openai', method: 'GET', url: 'https://api.openai.com/v1/models/json'})
    const sent = up.requests.slice(before)
    assert.equal(sent.length, 2)
    for (const r of sent) assert.equal(r.headers.authorization, `Bearer ${KEY}`)
    assert.ok(!(raw.stdout + raw.stderr + asJson.stdout + asJson.stderr).includes(KEY))
  })

  it('refuses traversal, smuggled auth and envelope hosts before any request', async () => {
    const before = up.requests.length
    const results = await Promise.all([
      invoke(['openai/models', '--path', '/v1/models/%2e%2e/%2e%2e/admin', '--json']),
      invoke(['openai/models', '--path', '/v1/models/x', '-H', 'authorization=Bearer caller', '--json']),
      invoke(['openai/models', '--request', JSON.stringify({method: 'GET', path: '/v1/models', url: 'https://evil.example.net/'}), '--json']),
      invoke(['openai/models', '--path', '/v1/modelsx', '--json']),
    ])
    for (const r of results) expectJsonError(r, 1, 'policy_violation')
    assert.equal(up.requests.length, before)
  })

  it('--stream delivers the first event before the upstream finished', async () => {
    const handler = up.route('POST', '/v1/responses', sse([{n: 0}, {n: 1}, {n: 2}, {n: 3}], {delayMs: 300}))
    const chunks: Array<{at: number; data: string}> = []
    const child = spawn(process.execPath, [CLI, 'invoke', 'openai/responses', '--method', 'POST', '--path', '/v1/responses', '--body', '{}', '--stream'],
      {env: {...tv.env, ...env}, cwd: tv.base})
    child.stdout.on('data', (d: Buffer) => chunks.push({at: Date.now(), data: d.toString('utf8')}))
    child.stdin.end()
    const code = await new Promise<number>((resolve, reject) => {
      child.on('error', reject)
      child.on('close', (c) => resolve(c ?? -1))
    })
    assert.equal(code, 0)
    assert.equal(handler.sentAt.length, 4)
    assert.ok(chunks.length > 0 && chunks[0].at < handler.sentAt[3], 'the first chunk arrived only after the upstream finished')
    assert.equal(chunks.map((c) => c.data).join(''), [0, 1, 2, 3].map((n) => `data: {"n":${n}}\n\n`).join(''))
  })

  it('rate limits count every process, through the daemon', async () => {
    tv.ok(['capability', 'policy', 'set', '--capability', 'openai/batch', '--rate-limit-per-minute', '2'])
    const before = up.requests.length
    const results = []
    for (let i = 0; i < 3; i++) results.push(await invoke(['openai/batch', '--method', 'GET', '--path', '/v1/batches', '--json']))
    assert.equal(results[0].status, 0, results[0].stdout)
    assert.equal(results[1].status, 0, results[1].stdout)
    expectJsonError(results[2], 1, 'rate_limited')
    assert.equal(up.requests.length, before + 2)
  })

  it('OAuth: the daemon refreshes once; an in-process invoke reuses the token cached in the secret record', async () => {
    const a = await invoke(['dmn/cap', '--path', '/v1/a', '--json'])
    const b = await invoke(['dmn/cap', '--path', '/v1/b', '--json'])
    const inProcess = await invoke(['dmn/cap', '--path', '/v1/c', '--json'], {AIVAULTD_DISABLE: '1'})
    for (const r of [a, b, inProcess]) assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.equal(tokens.calls, 1)
    const auths = ['/v1/a', '/v1/b', '/v1/c'].map((p) => (up.requests.find((r) => r.pathname === p) as RecordedRequest).headers.authorization)
    assert.deepEqual(auths, Array(3).fill('Bearer daemon-access-1-SECRET-xyz'))
    const all = [a, b, inProcess].map((r) => r.stdout + r.stderr).join('')
    for (const secret of [OAUTH.clientSecret, OAUTH.refreshToken, 'daemon-access-1-SECRET-xyz']) assert.ok(!all.includes(secret))
  })
})

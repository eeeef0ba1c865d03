/**
 * End-to-end tests of OAuth2 credentials (SPEC §8, §15): refresh_token and client_credentials
 * grants, the access token cached in the secret record and shared by every process, one refresh
 * and one retry on an upstream 401, single-flight refresh under concurrency, public clients, and
 * token endpoints confined to the credential's hosts.
 */
import * as assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {TempVault, assertNoSecrets, auditFilesText, expectJsonError, parseJson, type CliResult} from './fixture'
import {delay, oauthToken, resolveEnv, startUpstream, unauthorizedOnce, type OAuthTokenHandler, type RecordedRequest, type Upstream} from './upstream'

const CLIENT_ID = 'client-id-oauth-e2e.apps.example'
const CLIENT_SECRET = 'client-secret-oauth-e2e-SECRET-77'
const REFRESH_TOKEN = 'refresh-token-oauth-e2e-SECRET-88'
const PRESEEDED = 'preseeded-access-oauth-e2e-SECRET-99'

/** Access tokens long enough to be scrubbed and unique per endpoint: `<tag>-<n>-access-SECRET`. */
const tokenFor = (tag: string) => (n: number) => `${tag}-${n}-access-oauth-e2e-SECRET`

describe('e2e broker: OAuth2 credentials', function () {
  this.timeout(120_000)
  let up: Upstream
  let tv: TempVault
  let env: Record<string, string>
  const outputs: Record<string, string> = {}
  const issued: string[] = []
  const secretIds: Record<string, string> = {}

  const invoke = async (args: string[]): Promise<CliResult> => {
    const result = await tv.runAsync(['invoke', ...args], {env})
    const n = Object.keys(outputs).length
    outputs[`${args.join(' ')} #${n}`] = result.stdout + result.stderr
    return result
  }
  const apiRequests = (prefix: string) => up.requests.filter((r) => r.headers.host === 'api.example.com' && r.pathname.startsWith(prefix))

  /** A custom oauth2 credential `id` (token endpoint https://auth.example.com/<id>/token) and capability `<id>/cap` on /v1. */
  function oauthCredential(id: string, secret: Record<string, unknown>, grant: string, handler: OAuthTokenHandler, wrap?: (h: OAuthTokenHandler) => Parameters<Upstream['route']>[2]) {
    up.route('POST', `/${id}/token`, wrap ? wrap(handler) : handler, {host: 'auth.example.com'})
    secretIds[id] = tv.createSecret(`OAUTH_${id.toUpperCase().replace(/-/g, '_')}`, JSON.stringify(secret))
    tv.ok(['credential', 'create', id, '--provider', id, '--secret-ref', `vault:secret:${secretIds[id]}`, '--auth', 'oauth2', '--grant-type', grant,
      '--token-endpoint', `https://auth.example.com/${id}/token`, '--host', 'api.example.com', '--host', 'auth.example.com', '--scope', 'read', '--scope', 'write'])
    tv.ok(['capability', 'create', `${id}/cap`, '--credential', id, '--method', 'GET', '--method', 'POST', '--path', '/v1', '--host', 'api.example.com'])
  }
  const secretFile = (id: string) => {
    const dir = path.join(tv.root, 'secrets')
    const name = fs.readdirSync(dir).find((f) => f.startsWith(secretIds[id]) && f.endsWith('.yaml'))
    assert.ok(name, `no record file for secret ${secretIds[id]}`)
    return fs.readFileSync(path.join(dir, name))
  }
  const full = {clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, refreshToken: REFRESH_TOKEN}

  before(async () => {
    up = await startUpstream()
    env = resolveEnv(up)
    tv = new TempVault()
    tv.ok(['init', '--testing'])
  })

  after(async () => {
    await up?.close()
    tv?.dispose()
  })

  it('refresh_token: the first invoke makes one token call; a second process reuses the token cached in the secret record', async () => {
    const tokens = oauthToken({accessToken: tokenFor('rt')})
    oauthCredential('oa-rt', full, 'refresh_token', tokens)
    const recordBefore = secretFile('oa-rt')
    const first = await invoke(['oa-rt/cap', '--method', 'GET', '--path', '/v1/me', '--json'])
    assert.equal(first.status, 0, first.stdout)
    assert.equal(tokens.calls, 1)
    issued.push(...tokens.issued)
    assert.deepEqual(tokens.forms[0], {grant_type: 'refresh_token', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, refresh_token: REFRESH_TOKEN, scope: 'read write'})
    const tokenRequest = up.requests.find((r) => r.pathname === '/oa-rt/token') as RecordedRequest
    assert.equal(tokenRequest.headers.host, 'auth.example.com')
    assert.equal(tokenRequest.servername, 'auth.example.com')
    assert.match(tokenRequest.headers['content-type'], /^application\/x-www-form-urlencoded/)
    const out = parseJson(first)
    assert.equal(out.response.json.headers.authorization, 'Bearer [REDACTED]')
    assert.deepEqual(apiRequests('/v1/me').map((r) => r.headers.authorization), [`Bearer ${tokenFor('rt')(1)}`])

    // Written back into the secret record: its bytes changed, and no temp file is left behind.
    assert.notDeepEqual(secretFile('oa-rt'), recordBefore)
    assert.deepEqual(fs.readdirSync(path.join(tv.root, 'secrets')).filter((f) => f.endsWith('.tmp')), [])

    const second = await invoke(['oa-rt/cap', '--method', 'GET', '--path', '/v1/me', '--json'])
    assert.equal(second.status, 0, second.stdout)
    assert.equal(tokens.calls, 1, 'the second process called the token endpoint again')
    assert.deepEqual(apiRequests('/v1/me').map((r) => r.headers.authorization), [`Bearer ${tokenFor('rt')(1)}`, `Bearer ${tokenFor('rt')(1)}`])
    for (const r of apiRequests('/v1/me')) {
      assert.ok(!JSON.stringify(r.headers).includes(REFRESH_TOKEN) && !JSON.stringify(r.headers).includes(CLIENT_SECRET), 'the API saw client material')
    }
  })

  it('an upstream 401 triggers exactly one refresh and one retry; the new token is written back', async () => {
    const tokens = oauthToken({accessToken: tokenFor('r401')})
    oauthCredential('oa-401', full, 'refresh_token', tokens)
    const warm = await invoke(['oa-401/cap', '--method', 'GET', '--path', '/v1/ok', '--json'])
    assert.equal(warm.status, 0, warm.stdout)
    assert.equal(tokens.calls, 1)

    const flaky = unauthorizedOnce()
    up.route('GET', '/v1/flaky', flaky, {host: 'api.example.com'})
    const result = await invoke(['oa-401/cap', '--method', 'GET', '--path', '/v1/flaky', '--json'])
    assert.equal(result.status, 0, result.stdout)
    assert.equal(parseJson(result).response.status, 200)
    assert.equal(tokens.calls, 2, 'expected exactly one refresh after the 401')
    assert.equal(flaky.calls, 2, 'expected exactly one retry after the 401')
    assert.deepEqual(apiRequests('/v1/flaky').map((r) => r.headers.authorization), [`Bearer ${tokenFor('r401')(1)}`, `Bearer ${tokenFor('r401')(2)}`])

    // The refreshed token is what the next process uses, without another token call.
    const after = await invoke(['oa-401/cap', '--method', 'GET', '--path', '/v1/ok', '--json'])
    assert.equal(after.status, 0)
    assert.equal(tokens.calls, 2)
    assert.equal(apiRequests('/v1/ok').at(-1)?.headers.authorization, `Bearer ${tokenFor('r401')(2)}`)

    // An upstream that keeps answering 401: still one refresh and one retry, never a loop.
    const always = unauthorizedOnce(undefined, 1000)
    up.route('GET', '/v1/always-401', always, {host: 'api.example.com'})
    const stuck = await invoke(['oa-401/cap', '--method', 'GET', '--path', '/v1/always-401', '--json'])
    assert.equal(always.calls, 2)
    assert.equal(tokens.calls, 3)
    if (stuck.status === 0) assert.equal(parseJson(stuck).response.status, 401)
    else assert.ok(['auth_failed', 'oauth_refresh_failed'].includes(expectJsonError(stuck, 1).code))
    issued.push(...tokens.issued)
  })

  it('a rotated refresh token from the token endpoint is stored and used for the next refresh', async () => {
    const ROTATED = 'rotated-refresh-oauth-e2e-SECRET-66'
    const tokens = oauthToken({accessToken: tokenFor('rot'), refreshToken: ROTATED})
    oauthCredential('oa-rot', full, 'refresh_token', tokens)
    const first = await invoke(['oa-rot/cap', '--method', 'GET', '--path', '/v1/rot/ok', '--json'])
    assert.equal(first.status, 0, first.stdout)
    const flaky = up.route('GET', '/v1/rot/flaky', unauthorizedOnce(), {host: 'api.example.com'})
    const second = await invoke(['oa-rot/cap', '--method', 'GET', '--path', '/v1/rot/flaky', '--json'])
    assert.equal(second.status, 0, second.stdout)
    assert.equal(flaky.calls, 2)
    assert.equal(tokens.calls, 2)
    assert.equal(tokens.forms[0].refresh_token, REFRESH_TOKEN)
    assert.equal(tokens.forms[1].refresh_token, ROTATED, 'the rotated refresh token was not written back')
    issued.push(...tokens.issued, ROTATED)
  })

  it('concurrent invokes in separate processes share one refresh and all succeed', async () => {
    const tokens = oauthToken({accessToken: tokenFor('conc')})
    // A slow token endpoint, so the processes overlap while the refresh is in flight.
    oauthCredential('oa-conc', full, 'refresh_token', tokens, (h) => delay(400, h))
    const results = await Promise.all([1, 2, 3].map((i) => invoke(['oa-conc/cap', '--method', 'GET', '--path', `/v1/conc/${i}`, '--json'])))
    for (const r of results) assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.equal(tokens.calls, 1, `${tokens.calls} token calls for 3 concurrent invokes`)
    const auths = apiRequests('/v1/conc').map((r) => r.headers.authorization)
    assert.equal(auths.length, 3)
    assert.deepEqual(new Set(auths), new Set([`Bearer ${tokenFor('conc')(1)}`]))
    // The record survived the concurrent write-back intact: a later process still reads the cache.
    const later = await invoke(['oa-conc/cap', '--method', 'GET', '--path', '/v1/conc/later', '--json'])
    assert.equal(later.status, 0, later.stdout)
    assert.equal(tokens.calls, 1)
    assert.deepEqual(fs.readdirSync(path.join(tv.root, 'secrets')).filter((f) => f.endsWith('.tmp')), [])
    issued.push(...tokens.issued)
  })

  it('client_credentials: sends client id and secret, no refresh token', async () => {
    const tokens = oauthToken({accessToken: tokenFor('cc')})
    oauthCredential('oa-cc', {clientId: CLIENT_ID, clientSecret: CLIENT_SECRET}, 'client_credentials', tokens)
    const result = await invoke(['oa-cc/cap', '--method', 'GET', '--path', '/v1/cc', '--json'])
    assert.equal(result.status, 0, result.stdout)
    assert.equal(tokens.calls, 1)
    assert.deepEqual(tokens.forms[0], {grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, scope: 'read write'})
    assert.equal(apiRequests('/v1/cc')[0].headers.authorization, `Bearer ${tokenFor('cc')(1)}`)
    issued.push(...tokens.issued)
  })

  it('a public client (no clientSecret) sends no client_secret', async () => {
    const tokens = oauthToken({accessToken: tokenFor('pub')})
    oauthCredential('oa-public', {clientId: CLIENT_ID, refreshToken: REFRESH_TOKEN}, 'refresh_token', tokens)
    const result = await invoke(['oa-public/cap', '--method', 'GET', '--path', '/v1/pub', '--json'])
    assert.equal(result.status, 0, result.stdout)
    assert.equal(tokens.calls, 1)
    assert.ok(!('client_secret' in tokens.forms[0]), `client_secret sent: ${JSON.stringify(Object.keys(tokens.forms[0]))}`)
    assert.equal(tokens.forms[0].client_id, CLIENT_ID)
    assert.equal(tokens.forms[0].refresh_token, REFRESH_TOKEN)
    const tokenRequest = up.requests.filter((r) => r.pathname === '/oa-public/token')[0]
    assert.equal(tokenRequest.headers.authorization, undefined, 'a public client has no client authentication')
    issued.push(...tokens.issued)
  })

  it('a still-valid access token stored in the secret is used without a token call; an expired one is refreshed', async () => {
    const valid = oauthToken({accessToken: tokenFor('valid')})
    oauthCredential('oa-valid', {...full, accessToken: PRESEEDED, accessTokenExpiresAt: new Date(Date.now() + 3_600_000).toISOString()}, 'refresh_token', valid)
    const expired = oauthToken({accessToken: tokenFor('expired')})
    // Epoch milliseconds are accepted on input (SPEC §15).
    oauthCredential('oa-expired', {...full, accessToken: 'stale-access-oauth-e2e-SECRET', accessTokenExpiresAt: Date.now() - 1000}, 'refresh_token', expired)
    const [a, b] = await Promise.all([
      invoke(['oa-valid/cap', '--method', 'GET', '--path', '/v1/valid', '--json']),
      invoke(['oa-expired/cap', '--method', 'GET', '--path', '/v1/expired', '--json']),
    ])
    assert.equal(a.status, 0, a.stdout)
    assert.equal(b.status, 0, b.stdout)
    assert.equal(valid.calls, 0)
    assert.equal(apiRequests('/v1/valid')[0].headers.authorization, `Bearer ${PRESEEDED}`)
    assert.equal(expired.calls, 1)
    assert.equal(apiRequests('/v1/expired')[0].headers.authorization, `Bearer ${tokenFor('expired')(1)}`)
    issued.push(...expired.issued, 'stale-access-oauth-e2e-SECRET')
  })

  it('a failing token endpoint gives oauth_refresh_failed and no API request', async () => {
    const tokens = oauthToken({failWith: 400})
    oauthCredential('oa-fail', full, 'refresh_token', tokens)
    const result = await invoke(['oa-fail/cap', '--method', 'GET', '--path', '/v1/fail', '--json'])
    expectJsonError(result, 1, 'oauth_refresh_failed')
    assert.equal(tokens.calls, 1)
    assert.equal(apiRequests('/v1/fail').length, 0)
  })

  it('a token endpoint outside the credential hosts, or not https, is refused', () => {
    const secretId = tv.createSecret('OAUTH_BAD', JSON.stringify(full))
    const attempts = [
      ['--token-endpoint', 'https://evil.example.net/token', '--host', 'api.example.com', '--host', 'auth.example.com'],
      ['--token-endpoint', 'https://auth.example.com/token', '--host', 'api.example.com'],
      ['--token-endpoint', 'http://auth.example.com/token', '--host', 'api.example.com', '--host', 'auth.example.com'],
    ]
    for (const [i, flags] of attempts.entries()) {
      const result = tv.run(['credential', 'create', `oa-bad-${i}`, '--provider', `oa-bad-${i}`, '--secret-ref', `vault:secret:${secretId}`,
        '--auth', 'oauth2', '--grant-type', 'refresh_token', ...flags, '--json'])
      assert.equal(result.status, 2, `${flags.join(' ')}: exit ${result.status} ${result.stdout}`)
      assert.match(parseJson(result).error.message, /token.endpoint/i)
    }
    const ids = tv.json(['credential', 'list']).credentials.map((c: any) => c.id)
    assert.ok(!ids.some((id: string) => id.startsWith('oa-bad')), `created anyway: ${ids}`)
  })

  it('registry provider google-gmail: token from oauth2.googleapis.com with the registry scopes, bearer to gmail', async () => {
    const tokens = oauthToken({accessToken: tokenFor('gmail')})
    up.route('POST', '/token', tokens, {host: 'oauth2.googleapis.com'})
    const created = tv.json(['secrets', 'create', '--name', 'GOOGLE_GMAIL_OAUTH', '--value-stdin'], {input: JSON.stringify(full)})
    assert.equal(created.credential?.id, 'google-gmail')
    const result = await invoke(['google-gmail/profile', '--json'])
    assert.equal(result.status, 0, result.stdout)
    assert.equal(parseJson(result).planned.url, 'https://gmail.googleapis.com/gmail/v1/users/me/profile')
    assert.equal(tokens.calls, 1)
    assert.equal(tokens.forms[0].grant_type, 'refresh_token')
    assert.equal(tokens.forms[0].refresh_token, REFRESH_TOKEN)
    assert.ok(tokens.forms[0].scope?.split(' ').includes('https://www.googleapis.com/auth/gmail.modify'), `scope: ${tokens.forms[0].scope}`)
    const gmail = up.requests.filter((r) => r.headers.host === 'gmail.googleapis.com')
    assert.deepEqual(gmail.map((r) => [r.pathname, r.headers.authorization]), [['/gmail/v1/users/me/profile', `Bearer ${tokenFor('gmail')(1)}`]])
    // The token endpoint host is not a capability host: callers cannot reach it directly.
    const direct = await invoke(['google-gmail/profile', '--path', '//oauth2.googleapis.com/token', '--json'])
    expectJsonError(direct, 1, 'policy_violation')
    issued.push(...tokens.issued)
  })

  it('no client secret, refresh token or access token appears in any output or in the audit log', () => {
    assert.ok(issued.length >= 8, `only ${issued.length} tokens were issued`)
    const audit = tv.run(['audit', '--json', '--limit', '100000'])
    assert.equal(audit.status, 0)
    assertNoSecrets({...outputs, 'audit --json': audit.stdout, 'audit files': auditFilesText(tv)}, [CLIENT_SECRET, REFRESH_TOKEN, PRESEEDED, ...issued])
  })
})

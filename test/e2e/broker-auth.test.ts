/**
 * End-to-end tests of the broker's auth strategies (SPEC §7, §8): for every strategy the
 * upstream receives exactly the injected auth, callers cannot smuggle their own auth, host or
 * path, and no secret value reaches stdout, stderr, planned URLs or the audit log.
 */
import * as assert from 'node:assert/strict'
import {createHash, createHmac} from 'node:crypto'

import {
  TempVault, assertNoSecrets, auditFilesText, expectJsonError, mapLimit, parseJson, type CliResult,
} from './fixture'
import {CLIENT_CERT_SUBJECT, delay, resolveEnv, startUpstream, type RecordedRequest, type Upstream} from './upstream'

interface AwsSigner {
  new (request: Record<string, unknown>, credentials: Record<string, string>): {datetime: string; signature(): string; canonicalString(): string}
}
const aws4 = require('aws4') as {RequestSigner: AwsSigner}

const SECRETS = {
  openai: 'sk-openai-e2e-SECRET-1111111111',
  anthropic: 'sk-ant-e2e-SECRET-2222222222',
  gemini: 'AIza-gemini-e2e-SECRET-3333333',
  telegram: '987654321:AAH-telegram_e2e-SECRET-44',
  twilioSid: 'AC-twilio-sid-e2e-SECRET-5555',
  twilioToken: 'twilio-token-e2e-SECRET-6666',
  mailgun: 'key-mailgun-e2e-SECRET-777777',
  plaidClient: 'plaid-client-e2e-SECRET-8888',
  plaidSecret: 'plaid-secret-e2e-SECRET-9999',
  trelloKey: 'trello-key-e2e-SECRET-aaaaaaa',
  trelloToken: 'trello-token-e2e-SECRET-bbbbb',
  customHeader: 'custom-header-e2e-SECRET-cccc',
  customQuery: 'custom-query-e2e-SECRET-ddddd',
  basicPassword: 'basic-password-e2e-SECRET-eee',
  appId: 'app-id-e2e-SECRET-ffffffffffff',
  appKey: 'app-key-e2e-SECRET-gggggggggg',
  hmacKey: 'hmac-key-e2e-SECRET-hhhhhhhhhh',
  awsSecret: 'aws-secret-access-key-e2e-SECRET-iiii',
  awsSession: 'aws-session-token-e2e-SECRET-jjjj',
  /** RFC 3986 reserved characters that encodeURIComponent leaves alone, plus + / = and a space. */
  specialQuery: "q!u*e'r(y)-e2e SECRET+/=kk",
  specialHeader: 'hdr"quote\\back-e2e-SECRET-ll',
}
const AWS_ACCESS_KEY_ID = 'AKIAE2ETESTKEY000001'
const basicToken = (user: string, pass: string) => Buffer.from(`${user}:${pass}`).toString('base64')

/** Every value that must never be shown to the caller or logged. */
function allSecretValues(up: Upstream): string[] {
  return [
    ...Object.values(SECRETS),
    basicToken(SECRETS.twilioSid, SECRETS.twilioToken), basicToken('api', SECRETS.mailgun), basicToken('alice', SECRETS.basicPassword),
    // The body of the client key PEM (the certificate itself is public).
    up.certs.clientKey.split('\n').filter((l) => l !== '' && !l.startsWith('-----')).join(''),
  ]
}

function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
}

/** The auth-bearing parts of a recorded request, for "exactly this and nothing else" checks. */
function authSurface(req: RecordedRequest) {
  return {
    authorization: req.headers.authorization,
    xApiKey: req.headers['x-api-key'],
    cookie: req.headers.cookie,
  }
}

interface Strategy {
  name: string
  capability: string
  method: string
  path: string
  body?: string
  /** `mtls` talks to the upstream that demands a client certificate. */
  mtls?: boolean
  /** Header names the credential injects (each must be refused from callers). */
  injectedHeaders: string[]
  /** Query parameters the credential injects (each must be refused from callers). */
  injectedQuery: string[]
  /** A caller path that tries to supply the path-embedded auth itself. */
  pathSmuggle?: string
  /** Assert the upstream received exactly the injected auth. */
  check(req: RecordedRequest, up: Upstream): void
  /** Assert how the echoed request looks after the broker scrubbed the response. */
  checkEcho?(echo: any): void
}

const STRATEGIES: Strategy[] = [
  {
    name: 'header (openai: authorization Bearer)',
    capability: 'openai/models', method: 'GET', path: '/v1/models',
    injectedHeaders: ['authorization'], injectedQuery: [],
    check(req) {
      assert.deepEqual(authSurface(req), {authorization: `Bearer ${SECRETS.openai}`, xApiKey: undefined, cookie: undefined})
      assert.deepEqual(req.query, [])
    },
    checkEcho(echo) {
      assert.equal(echo.headers.authorization, 'Bearer [REDACTED]')
    },
  },
  {
    name: 'header (anthropic: x-api-key)',
    capability: 'anthropic/models', method: 'GET', path: '/v1/models',
    injectedHeaders: ['x-api-key'], injectedQuery: [],
    check(req) {
      assert.deepEqual(authSurface(req), {authorization: undefined, xApiKey: SECRETS.anthropic, cookie: undefined})
      assert.deepEqual(req.query, [])
    },
    checkEcho(echo) {
      assert.equal(echo.headers['x-api-key'], '[REDACTED]')
    },
  },
  {
    name: 'query (gemini: key=)',
    capability: 'gemini/models', method: 'GET', path: '/v1beta/models?pageSize=5',
    injectedHeaders: [], injectedQuery: ['key'],
    check(req) {
      assert.deepEqual(authSurface(req), {authorization: undefined, xApiKey: undefined, cookie: undefined})
      assert.equal(req.pathname, '/v1beta/models')
      assert.deepEqual(req.query.filter(([k]) => k === 'key'), [['key', SECRETS.gemini]])
      assert.deepEqual(req.query.filter(([k]) => k !== 'key'), [['pageSize', '5']])
    },
    checkEcho(echo) {
      assert.deepEqual(echo.query.find(([k]: string[]) => k === 'key'), ['key', '[REDACTED]'])
    },
  },
  {
    name: 'path (telegram: /bot<token>)',
    capability: 'telegram/get-me', method: 'GET', path: '/getMe',
    injectedHeaders: [], injectedQuery: [],
    pathSmuggle: '/bot123456:caller-guessed-token/getMe',
    check(req) {
      assert.deepEqual(authSurface(req), {authorization: undefined, xApiKey: undefined, cookie: undefined})
      assert.equal(req.pathname, `/bot${SECRETS.telegram}/getMe`)
    },
    checkEcho(echo) {
      assert.equal(echo.path, '/bot[REDACTED]/getMe')
    },
  },
  {
    name: 'basic (twilio: account SID + auth token from two secrets)',
    capability: 'twilio/api', method: 'GET', path: '/2010-04-01/Accounts.json',
    injectedHeaders: ['authorization'], injectedQuery: [],
    check(req) {
      assert.deepEqual(authSurface(req), {authorization: `Basic ${basicToken(SECRETS.twilioSid, SECRETS.twilioToken)}`, xApiKey: undefined, cookie: undefined})
    },
    checkEcho(echo) {
      assert.equal(echo.headers.authorization, 'Basic [REDACTED]')
    },
  },
  {
    name: 'basic (mailgun: username api)',
    capability: 'mailgun/domains', method: 'GET', path: '/v3/domains',
    injectedHeaders: ['authorization'], injectedQuery: [],
    check(req) {
      assert.deepEqual(authSurface(req), {authorization: `Basic ${basicToken('api', SECRETS.mailgun)}`, xApiKey: undefined, cookie: undefined})
    },
    checkEcho(echo) {
      assert.equal(echo.headers.authorization, 'Basic [REDACTED]')
    },
  },
  {
    name: 'multi_header (plaid: PLAID-CLIENT-ID + PLAID-SECRET)',
    capability: 'plaid/accounts', method: 'POST', path: '/accounts/get', body: '{"access_token":"access-sandbox-1"}',
    injectedHeaders: ['PLAID-CLIENT-ID', 'plaid-secret'], injectedQuery: [],
    check(req) {
      assert.deepEqual(authSurface(req), {authorization: undefined, xApiKey: undefined, cookie: undefined})
      assert.equal(req.headers['plaid-client-id'], SECRETS.plaidClient)
      assert.equal(req.headers['plaid-secret'], SECRETS.plaidSecret)
      assert.equal(req.rawHeaders.filter(([n]) => /^plaid-/i.test(n)).length, 2)
      assert.equal(req.body.toString(), '{"access_token":"access-sandbox-1"}')
    },
    checkEcho(echo) {
      assert.equal(echo.headers['plaid-client-id'], '[REDACTED]')
      assert.equal(echo.headers['plaid-secret'], '[REDACTED]')
    },
  },
  {
    name: 'multi_query (trello: key + token)',
    capability: 'trello/boards', method: 'GET', path: '/1/boards/b123?fields=name',
    injectedHeaders: [], injectedQuery: ['key', 'token'],
    check(req) {
      assert.deepEqual(authSurface(req), {authorization: undefined, xApiKey: undefined, cookie: undefined})
      assert.equal(req.pathname, '/1/boards/b123')
      assert.deepEqual(req.query.filter(([k]) => k === 'key'), [['key', SECRETS.trelloKey]])
      assert.deepEqual(req.query.filter(([k]) => k === 'token'), [['token', SECRETS.trelloToken]])
      assert.deepEqual(req.query.filter(([k]) => k !== 'key' && k !== 'token'), [['fields', 'name']])
    },
    checkEcho(echo) {
      assert.deepEqual(echo.query.filter(([k]: string[]) => k === 'key' || k === 'token').map(([, v]: string[]) => v), ['[REDACTED]', '[REDACTED]'])
    },
  },
  {
    name: 'custom header (x-custom-auth: Token {{secret}})',
    capability: 'cust-header/cap', method: 'GET', path: '/v1/items',
    injectedHeaders: ['x-custom-auth', 'X-Custom-Auth'], injectedQuery: [],
    check(req) {
      assert.deepEqual(authSurface(req), {authorization: undefined, xApiKey: undefined, cookie: undefined})
      assert.equal(req.headers['x-custom-auth'], `Token ${SECRETS.customHeader}`)
    },
    checkEcho(echo) {
      assert.equal(echo.headers['x-custom-auth'], 'Token [REDACTED]')
    },
  },
  {
    name: 'custom query (sig=)',
    capability: 'cust-query/cap', method: 'GET', path: '/v1/items?page=2',
    injectedHeaders: [], injectedQuery: ['sig'],
    check(req) {
      assert.deepEqual(authSurface(req), {authorization: undefined, xApiKey: undefined, cookie: undefined})
      assert.deepEqual(req.query, [['page', '2'], ['sig', SECRETS.customQuery]])
    },
    checkEcho(echo) {
      assert.deepEqual(echo.query, [['page', '2'], ['sig', '[REDACTED]']])
    },
  },
  {
    name: 'custom query (secret with reserved characters)',
    capability: 'cust-query-special/cap', method: 'GET', path: '/v1/items',
    injectedHeaders: [], injectedQuery: ['token'],
    check(req) {
      assert.deepEqual(req.query, [['token', SECRETS.specialQuery]])
    },
    checkEcho(echo) {
      assert.deepEqual(echo.query, [['token', '[REDACTED]']])
      assert.equal(echo.path, '/v1/items?token=[REDACTED]')
    },
  },
  {
    name: 'custom header (secret with quotes and backslashes)',
    capability: 'cust-header-special/cap', method: 'GET', path: '/v1/items',
    injectedHeaders: ['x-special'], injectedQuery: [],
    check(req) {
      assert.equal(req.headers['x-special'], SECRETS.specialHeader)
    },
    checkEcho(echo) {
      assert.equal(echo.headers['x-special'], '[REDACTED]')
    },
  },
  {
    name: 'custom basic ({username, password} JSON)',
    capability: 'cust-basic/cap', method: 'POST', path: '/v1/items', body: 'plain body',
    injectedHeaders: ['authorization'], injectedQuery: [],
    check(req) {
      assert.deepEqual(authSurface(req), {authorization: `Basic ${basicToken('alice', SECRETS.basicPassword)}`, xApiKey: undefined, cookie: undefined})
      assert.equal(req.body.toString(), 'plain body')
    },
    checkEcho(echo) {
      assert.equal(echo.headers.authorization, 'Basic [REDACTED]')
    },
  },
  {
    name: 'custom multi-header (JSON secret fields)',
    capability: 'cust-multi/cap', method: 'GET', path: '/v1/items',
    injectedHeaders: ['x-app-id', 'X-App-Key'], injectedQuery: [],
    check(req) {
      assert.deepEqual(authSurface(req), {authorization: undefined, xApiKey: undefined, cookie: undefined})
      assert.equal(req.headers['x-app-id'], SECRETS.appId)
      assert.equal(req.headers['x-app-key'], `Key ${SECRETS.appKey}`)
    },
    checkEcho(echo) {
      assert.equal(echo.headers['x-app-id'], '[REDACTED]')
      assert.equal(echo.headers['x-app-key'], 'Key [REDACTED]')
    },
  },
  {
    name: 'hmac (canonical input, recomputed here)',
    capability: 'cust-hmac/cap', method: 'POST', path: '/v1/sign?b=2&a=x%20y&a=1&c=%E2%82%AC', body: '{"amount":42}',
    injectedHeaders: ['x-signature', 'x-aivault-timestamp'], injectedQuery: [],
    check(req) {
      assert.deepEqual(authSurface(req), {authorization: undefined, xApiKey: undefined, cookie: undefined})
      const timestamp = req.headers['x-aivault-timestamp']
      assert.match(timestamp, /^\d+$/)
      assert.ok(Math.abs(Number(timestamp) - Date.now() / 1000) < 120, `timestamp ${timestamp} is not now`)
      const query = [...req.query]
        .sort((x, y) => Buffer.compare(Buffer.from(x[0]), Buffer.from(y[0])) || Buffer.compare(Buffer.from(x[1]), Buffer.from(y[1])))
        .map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`)
        .join('&')
      assert.equal(query, 'a=1&a=x%20y&b=2&c=%E2%82%AC')
      const canonical = [req.method, req.pathname, query, timestamp, createHash('sha256').update(req.body).digest('hex')].join('\n')
      const expected = createHmac('sha256', SECRETS.hmacKey).update(canonical).digest('hex')
      assert.equal(req.headers['x-signature'], `v1=${expected}`)
      assert.equal(req.body.toString(), '{"amount":42}')
    },
  },
  {
    name: 'hmac (body input, sha512)',
    capability: 'cust-hmac-body/cap', method: 'POST', path: '/v1/hook', body: '{"event":"ping"}',
    injectedHeaders: ['x-hub-signature'], injectedQuery: [],
    check(req) {
      assert.deepEqual(authSurface(req), {authorization: undefined, xApiKey: undefined, cookie: undefined})
      const expected = createHmac('sha512', SECRETS.hmacKey).update(req.body).digest('hex')
      assert.equal(req.headers['x-hub-signature'], `sha512=${expected}`)
      assert.equal(req.headers['x-aivault-timestamp'], undefined, 'body-mode HMAC sends no timestamp')
    },
  },
  {
    name: 'aws_sig_v4 (s3.amazonaws.com, session token, recomputed with aws4)',
    capability: 'cust-s3/cap', method: 'GET', path: '/my-bucket/dir/my%20file.txt?list-type=2&prefix=a%2Fb',
    injectedHeaders: ['x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256'], injectedQuery: [],
    check(req) {
      checkSigV4(req, 's3', 'us-east-1', 's3.amazonaws.com', true)
      assert.equal(req.headers['x-amz-content-sha256'], createHash('sha256').update('').digest('hex'))
    },
    checkEcho(echo) {
      assert.equal(echo.headers['x-amz-security-token'], '[REDACTED]')
    },
  },
  {
    name: 'aws_sig_v4 (generic service on api.example.com, with a body)',
    capability: 'cust-aws/cap', method: 'POST', path: '/v1/model/my%20model/invoke?z=1&a=2', body: '{"prompt":"hi"}',
    injectedHeaders: ['x-amz-date'], injectedQuery: [],
    check(req) {
      checkSigV4(req, 'bedrock', 'eu-west-1', 'api.example.com', false)
      assert.equal(req.body.toString(), '{"prompt":"hi"}')
    },
  },
  {
    name: 'mtls (client certificate from {certPem, keyPem})',
    capability: 'cust-mtls/cap', method: 'GET', path: '/v1/whoami', mtls: true,
    injectedHeaders: [], injectedQuery: [],
    check(req) {
      assert.deepEqual(authSurface(req), {authorization: undefined, xApiKey: undefined, cookie: undefined})
      assert.ok(req.clientCert, 'the upstream saw no client certificate')
      assert.equal(req.clientCert.subject.CN, CLIENT_CERT_SUBJECT.CN)
      assert.equal(req.clientCert.subject.O, CLIENT_CERT_SUBJECT.O)
    },
  },
]

/** Parse the recorded SigV4 Authorization header and recompute the signature with aws4. */
function checkSigV4(req: RecordedRequest, service: string, region: string, host: string, sessionToken: boolean): void {
  const authorization = req.headers.authorization ?? ''
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(authorization)
  assert.ok(match, `unexpected Authorization header: ${authorization}`)
  const [, keyId, date, gotRegion, gotService, signedHeaders, signature] = match
  assert.equal(keyId, AWS_ACCESS_KEY_ID)
  assert.equal(gotRegion, region)
  assert.equal(gotService, service)
  const amzDate = req.headers['x-amz-date']
  assert.match(amzDate, /^\d{8}T\d{6}Z$/)
  assert.equal(amzDate.slice(0, 8), date)
  const signed = signedHeaders.split(';')
  for (const required of ['host', 'x-amz-date', ...(sessionToken ? ['x-amz-security-token'] : [])]) assert.ok(signed.includes(required), `${required} is not signed: ${signedHeaders}`)
  assert.deepEqual([...signed].sort(), signed, 'SignedHeaders must be sorted')
  if (sessionToken) assert.equal(req.headers['x-amz-security-token'], SECRETS.awsSession)
  assert.equal(req.headers.host, host)
  const headers: Record<string, string> = {}
  for (const name of signed) {
    assert.ok(req.headers[name] !== undefined, `signed header ${name} was not sent`)
    headers[name] = req.headers[name]
  }
  const credentials: Record<string, string> = {accessKeyId: AWS_ACCESS_KEY_ID, secretAccessKey: SECRETS.awsSecret}
  if (sessionToken) credentials.sessionToken = SECRETS.awsSession
  const signer = new aws4.RequestSigner(
    {host, method: req.method, path: req.path, headers, body: req.body.toString('utf8'), service, region, doNotModifyHeaders: true},
    credentials,
  )
  signer.datetime = amzDate
  assert.equal(signature, signer.signature(), `signature mismatch; aws4 canonical request:\n${signer.canonicalString()}`)
}

describe('e2e broker: auth strategies', function () {
  this.timeout(120_000)
  let up: Upstream
  let mtlsUp: Upstream
  let tv: TempVault
  /** Every stdout/stderr the CLI printed in this file, for the final leak check. */
  const outputs: Record<string, string> = {}
  let seq = 0
  const remember = (label: string, r: CliResult) => {
    seq++
    outputs[`${label} #${seq} stdout`] = r.stdout
    outputs[`${label} #${seq} stderr`] = r.stderr
    return r
  }

  const envFor = (s: Strategy) => resolveEnv(s.mtls ? mtlsUp : up)
  const upFor = (s: Strategy) => (s.mtls ? mtlsUp : up)
  const call = (s: Strategy, extra: string[], json = true) => {
    const method = extra.includes('--request') ? [] : ['--method', s.method]
    const args = ['invoke', s.capability, ...method, ...(json ? ['--json'] : []), ...extra]
    return tv.runAsync(args, {env: envFor(s)}).then((r) => remember(`${s.capability} ${extra.join(' ')}`, r))
  }
  const withBody = (s: Strategy) => (s.body === undefined ? [] : ['--body', s.body])

  before(async () => {
    ;[up, mtlsUp] = await Promise.all([startUpstream(), startUpstream({requestClientCert: true})])
    tv = new TempVault()
    tv.ok(['init', '--testing'])
    tv.createSecret('OPENAI_API_KEY', SECRETS.openai)
    tv.createSecret('ANTHROPIC_API_KEY', SECRETS.anthropic)
    tv.createSecret('GEMINI_API_KEY', SECRETS.gemini)
    tv.createSecret('TELEGRAM_BOT_TOKEN', SECRETS.telegram)
    tv.createSecret('TWILIO_ACCOUNT_SID', SECRETS.twilioSid)
    tv.createSecret('TWILIO_AUTH_TOKEN', SECRETS.twilioToken)
    tv.createSecret('MAILGUN_API_KEY', SECRETS.mailgun)
    tv.createSecret('PLAID_CLIENT_ID', SECRETS.plaidClient)
    tv.createSecret('PLAID_SECRET', SECRETS.plaidSecret)
    tv.createSecret('TRELLO_API_KEY', SECRETS.trelloKey)
    tv.createSecret('TRELLO_TOKEN', SECRETS.trelloToken)
    const credentials = tv.json(['credential', 'list']).credentials.map((c: any) => c.id).sort()
    assert.deepEqual(credentials, ['anthropic', 'gemini', 'mailgun', 'openai', 'plaid', 'telegram', 'trello', 'twilio'])

    const custom = (id: string, secretName: string, value: string, auth: string[], host = 'api.example.com', prefix = '/v1') => {
      const secretId = tv.createSecret(secretName, value)
      tv.ok(['credential', 'create', id, '--provider', id, '--secret-ref', `vault:secret:${secretId}`, '--host', host, ...auth])
      tv.ok(['capability', 'create', `${id}/cap`, '--credential', id, '--method', 'GET', '--method', 'POST', '--path', prefix])
    }
    custom('cust-header', 'CUST_HEADER', SECRETS.customHeader, ['--auth', 'header', '--header-name', 'X-Custom-Auth', '--value-template', 'Token {{secret}}'])
    custom('cust-query', 'CUST_QUERY', SECRETS.customQuery, ['--auth', 'query', '--query-param', 'sig'])
    custom('cust-query-special', 'CUST_QUERY_SPECIAL', SECRETS.specialQuery, ['--auth', 'query', '--query-param', 'token'])
    custom('cust-header-special', 'CUST_HEADER_SPECIAL', SECRETS.specialHeader, ['--auth', 'header', '--header-name', 'x-special', '--value-template', '{{secret}}'])
    custom('cust-basic', 'CUST_BASIC', JSON.stringify({username: 'alice', password: SECRETS.basicPassword}), ['--auth', 'basic'])
    custom('cust-multi', 'CUST_MULTI', JSON.stringify({app_id: SECRETS.appId, app_key: SECRETS.appKey}),
      ['--auth', 'multi-header', '--auth-header', 'X-App-Id={{app_id}}', '--auth-header', 'X-App-Key=Key {{app_key}}'])
    custom('cust-hmac', 'CUST_HMAC', SECRETS.hmacKey, ['--auth', 'hmac', '--header-name', 'X-Signature', '--value-template', 'v1={{signature}}'])
    custom('cust-hmac-body', 'CUST_HMAC_BODY', SECRETS.hmacKey,
      ['--auth', 'hmac', '--hmac-input', 'body', '--hmac-algorithm', 'sha512', '--header-name', 'x-hub-signature', '--value-template', 'sha512={{signature}}'])
    custom('cust-s3', 'CUST_S3', JSON.stringify({accessKeyId: AWS_ACCESS_KEY_ID, secretAccessKey: SECRETS.awsSecret, sessionToken: SECRETS.awsSession}),
      ['--auth', 'aws-sigv4', '--aws-service', 's3', '--aws-region', 'us-east-1'], 's3.amazonaws.com', '/my-bucket')
    custom('cust-aws', 'CUST_AWS', JSON.stringify({accessKeyId: AWS_ACCESS_KEY_ID, secretAccessKey: SECRETS.awsSecret}),
      ['--auth', 'aws_sig_v4', '--aws-service', 'bedrock', '--aws-region', 'eu-west-1'])
    custom('cust-mtls', 'CUST_MTLS', JSON.stringify({certPem: up.certs.clientCert, keyPem: up.certs.clientKey}), ['--auth', 'mtls'])
  })

  after(async () => {
    await Promise.all([up?.close(), mtlsUp?.close()])
    tv?.dispose()
  })

  for (const s of STRATEGIES) {
    describe(s.name, () => {
      it('the upstream receives exactly the injected auth; the caller sees it redacted', async () => {
        const target = upFor(s)
        const before = target.requests.length
        const result = await call(s, ['--path', s.path, ...withBody(s), '-H', 'x-trace-id=trace-1', '-H', 'host=evil.example.net'])
        assert.equal(result.status, 0, `exit ${result.status}: ${result.stdout}${result.stderr}`)
        assert.equal(target.requests.length, before + 1)
        const req = target.last() as RecordedRequest
        assert.equal(req.method, s.method)
        // Ordinary headers pass; the reserved Host header is the broker's.
        assert.equal(req.headers['x-trace-id'], 'trace-1')
        assert.notEqual(req.headers.host, 'evil.example.net')
        assert.ok(!JSON.stringify(req.rawHeaders).includes('evil.example.net'))
        s.check(req, target)
        const out = parseJson(result)
        // The test override keeps the real host name in the URL, Host header and TLS SNI.
        const host = new URL(out.planned.url).hostname
        assert.equal(req.headers.host, host)
        assert.equal(req.servername, host)
        assert.equal(out.planned.capability, s.capability)
        assert.equal(out.planned.method, s.method)
        assert.equal(out.response.status, 200)
        assert.equal(out.response.json.method, s.method)
        assertNoSecrets({'planned url': out.planned.url}, allSecretValues(up))
        s.checkEcho?.(out.response.json)
        assertNoSecrets({stdout: result.stdout, stderr: result.stderr}, allSecretValues(up))
      })

      it('raw invoke prints the scrubbed body only and leaks nothing', async () => {
        const result = await call(s, ['--path', s.path, ...withBody(s)], false)
        assert.equal(result.status, 0, result.stderr)
        const echo = JSON.parse(result.stdout)
        assert.equal(echo.method, s.method)
        assertNoSecrets({stdout: result.stdout, stderr: result.stderr}, allSecretValues(up))
        s.checkEcho?.(echo)
      })

      it('refuses auth, host and path smuggling before any upstream request', async () => {
        const target = upFor(s)
        const before = target.requests.length
        const base = ['--path', s.path, ...withBody(s)]
        const attempts: Array<{args: string[]; code: string}> = [
          {args: [...base, '-H', 'authorization=Bearer caller-token'], code: 'policy_violation'},
          {args: [...base, '-H', 'Authorization=Basic Y2FsbGVyOnB3'], code: 'policy_violation'},
          {args: [...base, '-H', 'x-api-key=caller-key'], code: 'policy_violation'},
          {args: [...base, '-H', 'cookie=session=caller'], code: 'policy_violation'},
          {args: [...base, '-H', 'proxy-authorization=Basic eDp5'], code: 'policy_violation'},
          ...s.injectedHeaders.map((h) => ({args: [...base, '-H', `${h}=caller-value`], code: 'policy_violation'})),
          ...s.injectedQuery.flatMap((q) => [`${q}=caller-value`, `%${q.charCodeAt(0).toString(16)}${q.slice(1)}=caller-value`, q].map((pair) =>
            ({args: ['--path', `${s.path}${s.path.includes('?') ? '&' : '?'}${pair}`, ...withBody(s)], code: 'policy_violation'}))),
          // Header values may not smuggle extra header lines; a header may not be given twice.
          {args: [...base, '-H', 'x-note=a\r\nauthorization: Bearer caller-token'], code: 'policy_violation'},
          {args: [...base, '-H', 'x-dup=1', '-H', 'X-Dup=2'], code: 'policy_violation'},
          ...(s.pathSmuggle ? [{args: ['--path', s.pathSmuggle], code: 'policy_violation'}] : []),
          {args: ['--request', JSON.stringify({method: s.method, path: s.path, url: 'https://evil.example.net/steal'})], code: 'policy_violation'},
          {args: ['--request', JSON.stringify({method: s.method, path: s.path, host: 'evil.example.net'})], code: 'policy_violation'},
          {args: ['--request', JSON.stringify({host: 'evil.example.net', request: {method: s.method, path: s.path}})], code: 'policy_violation'},
          {args: ['--request', JSON.stringify({url: 'https://evil.example.net/', request: {method: s.method, path: s.path}})], code: 'policy_violation'},
          {args: ['--path', '//evil.example.net/x'], code: 'policy_violation'},
          // SPEC §15: a path that does not start with "/" is invalid_request.
          {args: ['--path', `https://evil.example.net${s.path}`], code: 'invalid_request'},
        ]
        const results = await mapLimit(attempts, 4, (a) => call(s, a.args))
        for (const [i, result] of results.entries()) {
          const error = expectJsonError(result, 1)
          assert.equal(error.code, attempts[i].code, `${attempts[i].args.join(' ')} -> ${result.stdout}`)
          assertNoSecrets({stdout: result.stdout, stderr: result.stderr}, allSecretValues(up))
        }
        assert.equal(target.requests.length, before, 'a refused request reached the upstream')
      })
    })
  }

  describe('after every strategy ran', () => {
    it('mtls: without the client certificate the mTLS upstream refuses the handshake', async () => {
      const s = STRATEGIES.find((x) => x.mtls) as Strategy
      const before = mtlsUp.requests.length
      // The same upstream host through a header credential: no certificate is presented.
      const result = await tv.runAsync(['invoke', 'cust-header/cap', '--method', 'GET', '--path', '/v1/whoami', '--json'], {env: envFor(s)})
      remember('mtls-negative', result)
      expectJsonError(result, 1, 'upstream_unreachable')
      assert.equal(mtlsUp.requests.length, before)
    })

    it('an upstream timeout on a path-auth request names no token (stdout, stderr, audit)', async () => {
      up.route('GET', '/getUpdates', delay(5000))
      up.route('GET', `/bot${SECRETS.telegram}/getUpdates`, delay(5000))
      const result = await tv.runAsync(['invoke', 'telegram/get-updates', '--method', 'GET', '--path', '/getUpdates', '--timeout-ms', '400', '--json'], {env: resolveEnv(up)})
      remember('telegram-timeout', result)
      expectJsonError(result, 1, 'upstream_timeout')
      const event = parseJson(tv.run(['audit', '--json'])).events.find((e: any) => e.kind === 'capability.invoke')
      assert.equal(event.capability, 'telegram/get-updates')
      assert.equal(event.error, 'upstream_timeout')
    })

    it('no secret value appears in any output, in `audit --json`, or in any audit file', async () => {
      const audit = tv.run(['audit', '--json', '--limit', '100000'])
      assert.equal(audit.status, 0)
      const events = parseJson(audit).events as any[]
      const invokes = events.filter((e) => e.kind === 'capability.invoke')
      assert.ok(invokes.length >= STRATEGIES.length * 3, `only ${invokes.length} invoke events`)
      // The telegram path is audited with the token redacted.
      const telegram = invokes.find((e) => e.capability === 'telegram/get-me' && e.status === 200)
      assert.ok(telegram, 'no successful telegram invoke audited')
      assert.equal(telegram.path, '/bot[REDACTED]/getMe')
      const files = auditFilesText(tv)
      assert.ok(files.includes('capability.invoke'))
      assertNoSecrets({...outputs, 'audit --json': audit.stdout, 'audit files': files}, allSecretValues(up))
      assert.ok(Object.keys(outputs).length > STRATEGIES.length * 10)
    })
  })
})

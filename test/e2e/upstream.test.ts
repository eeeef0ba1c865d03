/**
 * Tests of the upstream fixture itself, with a plain Node https client (no aivault).
 */
import * as assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as https from 'node:https'
import * as net from 'node:net'
import * as path from 'node:path'

import {
  CLIENT_CERT_SUBJECT, SENSITIVE_RESPONSE_HEADERS, UPSTREAM_HOSTNAMES, delay, json, largeBody, oauthToken, redirect, resolveEnv,
  sensitiveHeaders, sse, startUpstream, testCerts, text, unauthorizedOnce, type Upstream,
} from './upstream'

interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
  /** Arrival time of each body chunk, and of the end of the response. */
  chunkTimes: number[]
  endTime: number
  text: string
}

interface Call {
  servername?: string
  method?: string
  path?: string
  headers?: Record<string, string>
  body?: string | Buffer
  ca?: string | null
  cert?: string
  key?: string
}

/** One request to 127.0.0.1:port, presenting `servername` as SNI and Host. `ca: null` uses the default trust store. */
function call(up: Upstream, options: Call = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1',
      port: up.port,
      method: options.method ?? 'GET',
      path: options.path ?? '/',
      servername: options.servername,
      headers: {...(options.servername ? {host: options.servername} : {}), ...options.headers},
      ca: options.ca === null ? undefined : options.ca ?? up.certs.caCert,
      cert: options.cert,
      key: options.key,
      agent: false,
    }, (res) => {
      const chunks: Buffer[] = []
      const chunkTimes: number[] = []
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk)
        chunkTimes.push(Date.now())
      })
      res.on('error', reject)
      res.on('end', () => {
        const body = Buffer.concat(chunks)
        resolve({status: res.statusCode ?? 0, headers: res.headers, body, chunkTimes, endTime: Date.now(), text: body.toString('utf8')})
      })
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

describe('e2e upstream fixture', () => {
  let up: Upstream

  before(async () => {
    up = await startUpstream()
  })
  after(async () => {
    await up.close()
  })
  beforeEach(() => up.reset())

  describe('certificates', () => {
    it('are generated once per process into a temp folder outside the repository', async () => {
      const [a, b] = await Promise.all([testCerts(), testCerts()])
      assert.equal(a, b)
      assert.equal(a.dir.startsWith(path.resolve(__dirname, '..', '..')), false)
      for (const file of [a.caCertPath, a.serverCertPath, a.serverKeyPath, a.clientCaCertPath, a.clientCertPath, a.clientKeyPath]) {
        assert.ok(fs.existsSync(file), file)
      }
      assert.match(a.caCert, /^-----BEGIN CERTIFICATE-----/)
      assert.match(a.clientKey, /-----BEGIN PRIVATE KEY-----/)
      assert.equal(up.caPath, a.caCertPath)
      assert.equal(fs.statSync(a.dir).mode & 0o077, 0)
    })

    it('verify for api.openai.com (SNI) against the fixture CA', async () => {
      const reply = await call(up, {servername: 'api.openai.com', path: '/v1/models'})
      assert.equal(reply.status, 200)
      assert.equal(up.last()?.servername, 'api.openai.com')
    })

    it('cover every provider host name, *.example.com and 127.0.0.1', async () => {
      for (const name of [...UPSTREAM_HOSTNAMES, 'localhost', 'anything.example.com']) {
        assert.equal((await call(up, {servername: name})).status, 200, name)
      }
      assert.equal((await call(up)).status, 200)
      assert.equal(up.last()?.servername, undefined)
      assert.equal(up.requests.length, UPSTREAM_HOSTNAMES.length + 3)
    })

    it('fail without the fixture CA, and for a name not in the certificate', async () => {
      await assert.rejects(call(up, {servername: 'api.openai.com', ca: null}), (error: NodeJS.ErrnoException) => {
        assert.match(String(error.code), /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT)/)
        return true
      })
      await assert.rejects(call(up, {servername: 'api.evil.com'}), {code: 'ERR_TLS_CERT_ALTNAME_INVALID'})
      await assert.rejects(call(up, {servername: 'a.b.example.com'}), {code: 'ERR_TLS_CERT_ALTNAME_INVALID'})
      assert.equal(up.requests.length, 0)
    })
  })

  describe('recording and routing', () => {
    it('records method, raw path, query, headers, body and SNI, and echoes them by default', async () => {
      const reply = await call(up, {
        servername: 'api.anthropic.com', method: 'POST', path: '/v1/messages?b=2&a=x%20y&a=z+w&empty=',
        headers: {'X-Custom': 'one', 'content-type': 'application/json'}, body: '{"hello":"world"}',
      })
      assert.equal(reply.status, 200)
      assert.equal(reply.headers['content-type'], 'application/json')
      const [rec] = up.requests
      assert.equal(rec.method, 'POST')
      assert.equal(rec.path, '/v1/messages?b=2&a=x%20y&a=z+w&empty=')
      assert.equal(rec.pathname, '/v1/messages')
      assert.deepEqual(rec.query, [['b', '2'], ['a', 'x y'], ['a', 'z w'], ['empty', '']])
      assert.equal(rec.headers['x-custom'], 'one')
      assert.equal(rec.headers.host, 'api.anthropic.com')
      assert.ok(rec.rawHeaders.some(([name, value]) => name === 'X-Custom' && value === 'one'))
      assert.equal(rec.body.toString(), '{"hello":"world"}')
      assert.equal(rec.servername, 'api.anthropic.com')
      assert.equal(rec.clientCert, undefined)
      const echoed = JSON.parse(reply.text)
      assert.deepEqual(echoed, {method: 'POST', path: rec.path, query: rec.query, headers: rec.headers, body: '{"hello":"world"}', servername: 'api.anthropic.com'})
    })

    it('keeps repeated headers instead of merging them away', async () => {
      const req = https.request({host: '127.0.0.1', port: up.port, servername: 'api.github.com', ca: up.certs.caCert, agent: false, path: '/'})
      req.setHeader('x-dup', ['a', 'b'])
      await new Promise<void>((resolve, reject) => {
        req.on('response', (res) => res.resume().on('end', resolve))
        req.on('error', reject)
        req.end()
      })
      const rec = up.requests[0]
      assert.equal(rec.headers['x-dup'], 'a, b')
      assert.deepEqual(rec.rawHeaders.filter(([name]) => name === 'x-dup'), [['x-dup', 'a'], ['x-dup', 'b']])
    })

    it('routes by method, segment-aware longest prefix and host; reset() forgets routes and requests', async () => {
      up.route('GET', '/v1', json(200, {route: 'v1'}))
      up.route('GET', '/v1/chat', json(201, {route: 'chat'}))
      up.route('POST', '/v1/chat', json(202, {route: 'chat-post'}))
      up.route('*', '/token', text(200, 'google'), {host: 'oauth2.googleapis.com'})
      up.route('*', '/token', text(200, 'example'), {host: 'auth.example.com'})
      assert.equal((await call(up, {servername: 'api.openai.com', path: '/v1/chat/completions'})).status, 201)
      assert.equal((await call(up, {servername: 'api.openai.com', path: '/v1/chatty'})).status, 200)
      assert.equal(JSON.parse((await call(up, {servername: 'api.openai.com', path: '/v1/chatty'})).text).route, 'v1')
      assert.equal((await call(up, {servername: 'api.openai.com', path: '/v1/chat?x=1', method: 'POST'})).status, 202)
      assert.equal((await call(up, {servername: 'oauth2.googleapis.com', path: '/token'})).text, 'google')
      assert.equal((await call(up, {servername: 'auth.example.com', path: '/token'})).text, 'example')
      up.route('GET', '/v1', json(203, {route: 'override'}))
      assert.equal((await call(up, {servername: 'api.openai.com', path: '/v1/models'})).status, 203)
      assert.equal(up.requests.length, 7)
      up.reset()
      assert.equal(up.requests.length, 0)
      const reply = await call(up, {servername: 'api.openai.com', path: '/v1/chat'})
      assert.equal(JSON.parse(reply.text).path, '/v1/chat')
    })

    it('answers 500 when a handler throws', async () => {
      up.route('GET', '/', () => {
        throw new Error('boom')
      })
      const reply = await call(up, {servername: 'api.example.com'})
      assert.equal(reply.status, 500)
      assert.match(reply.text, /boom/)
    })
  })

  describe('response helpers', () => {
    it('sse() sends events spaced in time; the first arrives before the response ends', async () => {
      const handler = up.route('POST', '/v1/chat/completions', sse([{delta: 'a'}, {delta: 'b'}, '[DONE]'], {delayMs: 200}))
      const reply = await call(up, {servername: 'api.openai.com', method: 'POST', path: '/v1/chat/completions', body: '{}'})
      assert.equal(reply.headers['content-type'], 'text/event-stream')
      assert.equal(reply.text, 'data: {"delta":"a"}\n\ndata: {"delta":"b"}\n\ndata: [DONE]\n\n')
      assert.ok(reply.chunkTimes.length >= 2, `chunks: ${reply.chunkTimes.length}`)
      assert.ok(reply.endTime - reply.chunkTimes[0] >= 350, `first event ${reply.endTime - reply.chunkTimes[0]}ms before the end`)
      assert.equal(handler.sentAt.length, 3)
      assert.ok(handler.sentAt[2] - handler.sentAt[0] >= 350)
    })

    it('delay() waits before answering', async () => {
      up.route('GET', '/slow', delay(300, json(200, {late: true})))
      const started = Date.now()
      const reply = await call(up, {servername: 'api.example.com', path: '/slow'})
      assert.ok(Date.now() - started >= 280)
      assert.deepEqual(JSON.parse(reply.text), {late: true})
    })

    it('redirect(), largeBody() and sensitiveHeaders()', async () => {
      up.route('GET', '/moved', redirect(302, 'https://other.example.com/there'))
      up.route('GET', '/big', largeBody(3 * 1024 * 1024 + 7))
      up.route('GET', '/big-chunked', largeBody(100_000, {chunked: true}))
      up.route('GET', '/leaky', sensitiveHeaders({ok: 1}))
      const moved = await call(up, {servername: 'api.example.com', path: '/moved'})
      assert.equal(moved.status, 302)
      assert.equal(moved.headers.location, 'https://other.example.com/there')
      const big = await call(up, {servername: 'api.example.com', path: '/big'})
      assert.equal(big.body.length, 3 * 1024 * 1024 + 7)
      assert.equal(big.headers['content-length'], String(3 * 1024 * 1024 + 7))
      assert.equal(big.body.subarray(0, 3).toString(), 'abc')
      const chunked = await call(up, {servername: 'api.example.com', path: '/big-chunked'})
      assert.equal(chunked.body.length, 100_000)
      assert.equal(chunked.headers['transfer-encoding'], 'chunked')
      const leaky = await call(up, {servername: 'api.example.com', path: '/leaky'})
      assert.deepEqual(JSON.parse(leaky.text), {ok: 1})
      assert.deepEqual(leaky.headers['set-cookie'], SENSITIVE_RESPONSE_HEADERS['set-cookie'])
      assert.equal(leaky.headers['x-api-key'], SENSITIVE_RESPONSE_HEADERS['x-api-key'])
      assert.equal(leaky.headers.connection, 'keep-alive')
      assert.equal(leaky.headers['transfer-encoding'], 'chunked')
      assert.equal(leaky.headers['x-request-id'], 'req_fixture_1')
    })

    it('unauthorizedOnce() answers 401 once, then delegates', async () => {
      const handler = up.route('GET', '/v1/me', unauthorizedOnce(json(200, {me: true})))
      const first = await call(up, {servername: 'gmail.googleapis.com', path: '/v1/me'})
      assert.equal(first.status, 401)
      assert.match(String(first.headers['www-authenticate']), /invalid_token/)
      const second = await call(up, {servername: 'gmail.googleapis.com', path: '/v1/me'})
      assert.equal(second.status, 200)
      assert.equal(handler.calls, 2)
    })

    it('oauthToken() counts calls, records form bodies and issues configured tokens', async () => {
      const token = up.route('POST', '/token', oauthToken({accessToken: (n) => `ya29.fixture-${n}`, expiresIn: 120}))
      const form = 'grant_type=refresh_token&refresh_token=rt-1&client_id=cid'
      const post = () => call(up, {servername: 'oauth2.googleapis.com', method: 'POST', path: '/token', body: form,
        headers: {'content-type': 'application/x-www-form-urlencoded'}})
      const first = JSON.parse((await post()).text)
      assert.deepEqual(first, {access_token: 'ya29.fixture-1', expires_in: 120, token_type: 'Bearer'})
      assert.equal(JSON.parse((await post()).text).access_token, 'ya29.fixture-2')
      assert.equal(token.calls, 2)
      assert.deepEqual(token.forms[0], {grant_type: 'refresh_token', refresh_token: 'rt-1', client_id: 'cid'})
      assert.deepEqual(token.issued, ['ya29.fixture-1', 'ya29.fixture-2'])

      const fixed = up.route('POST', '/fixed', oauthToken({accessToken: 'at-fixed', refreshToken: 'rt-2'}))
      const reply = JSON.parse((await call(up, {servername: 'auth.example.com', method: 'POST', path: '/fixed', body: 'grant_type=client_credentials'})).text)
      assert.deepEqual(reply, {access_token: 'at-fixed', expires_in: 3600, token_type: 'Bearer', refresh_token: 'rt-2'})
      assert.equal(fixed.calls, 1)
      up.route('POST', '/broken', oauthToken({failWith: 400}))
      assert.equal((await call(up, {servername: 'auth.example.com', method: 'POST', path: '/broken'})).status, 400)
    })
  })

  describe('mTLS upstream', () => {
    let mtls: Upstream
    before(async () => {
      mtls = await startUpstream({requestClientCert: true})
    })
    after(async () => {
      await mtls.close()
    })

    it('refuses a client without a certificate', async () => {
      await assert.rejects(call(mtls, {servername: 'api.example.com'}))
      assert.equal(mtls.requests.length, 0)
      assert.ok(mtls.tlsErrors.length >= 1)
    })

    it('refuses a client certificate from another CA', async () => {
      const certs = await testCerts()
      await assert.rejects(call(mtls, {servername: 'api.example.com', cert: certs.serverCert, key: certs.serverKey}))
      assert.equal(mtls.requests.length, 0)
    })

    it('records the subject of the client certificate', async () => {
      const certs = await testCerts()
      const reply = await call(mtls, {servername: 'api.example.com', path: '/whoami', cert: certs.clientCert, key: certs.clientKey})
      assert.equal(reply.status, 200)
      const rec = mtls.last()
      assert.equal(rec?.clientCert?.subject.CN, CLIENT_CERT_SUBJECT.CN)
      assert.equal(rec?.clientCert?.subject.O, CLIENT_CERT_SUBJECT.O)
      assert.equal(rec?.clientCert?.issuer.CN, 'aivault test client CA')
      assert.match(String(rec?.clientCert?.fingerprint256), /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
    })
  })

  describe('lifecycle', () => {
    it('resolveEnv() points the given names at the upstream', () => {
      assert.deepEqual(resolveEnv(up, ['api.openai.com', 'api.example.com']), {
        AIVAULT_DEV_RESOLVE: `api.openai.com=127.0.0.1:${up.port},api.example.com=127.0.0.1:${up.port}`,
        AIVAULT_DEV_CA_CERT_PATH: up.caPath,
        AIVAULT_DEV_ALLOW_PRIVATE_UPSTREAMS: '1',
        AIVAULT_DEV_ALLOW_NON_DEFAULT_PORTS: '1',
      })
      assert.equal(resolveEnv(up).AIVAULT_DEV_RESOLVE.split(',').length, UPSTREAM_HOSTNAMES.length)
      assert.equal(up.url('api.example.com', '/v1/x?y=1'), `https://api.example.com:${up.port}/v1/x?y=1`)
    })

    it('close() ends open streams promptly and frees the port', async () => {
      const temp = await startUpstream()
      temp.route('GET', '/', sse(['a', 'b'], {delayMs: 30_000}))
      const pending = call(temp, {servername: 'api.example.com'}).then(() => 'ended', () => 'failed')
      while (temp.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10))
      const started = Date.now()
      await temp.close()
      assert.ok(Date.now() - started < 2000)
      assert.ok(['ended', 'failed'].includes(await pending))
      await assert.rejects(call(temp, {servername: 'api.example.com'}), {code: 'ECONNREFUSED'})
      const again = net.createServer()
      await new Promise<void>((resolve, reject) => {
        again.once('error', reject)
        again.listen(temp.port, '127.0.0.1', () => resolve())
      })
      await new Promise<void>((resolve) => again.close(() => resolve()))
    })
  })
})

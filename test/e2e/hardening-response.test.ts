/**
 * Issue 12 items 1-4: no key reaches a caller through the response side, on any entry point
 * (the broker in-process, the CLI in-process and through aivaultd, raw aivaultd frames,
 * `aivault serve`): response header values (a redirect's Location carrying query or path
 * auth, a header echoing the key), error messages and audit lines, `--response-block` on
 * NDJSON and SSE bodies, and echoes in the encodings a server commonly applies.
 */
import * as assert from 'node:assert/strict'
import {brotliCompressSync, gzipSync} from 'node:zlib'

import {TempVault, auditFilesText, killDaemonsUnder, parseJson} from './fixture'
import {type Call, type Outcome, leakedSpellings, viaCli, viaFrames, viaLibrary, viaServe} from './response-entry-points'
import {mint, startServe, type Served} from './serve-helpers'
import {echo, json, resolveEnv, startUpstream, type Handler, type RecordedRequest, type Upstream} from './upstream'

const OPENAI = 'sk-resp-e2e/SECRET+key=0123456789'
const GEMINI = 'AIzaSy-resp-e2e-SECRET_0123456789'
const TELEGRAM = '123456:AAH-resp-e2e-SECRET_abcdef'
const BASIC = {username: 'acct-resp-e2e-SECRET-user', password: 'pw-resp-e2e-SECRET-0123'}
const OAUTH = {clientId: 'resp-client', clientSecret: 'resp-client-SECRET-abcdef', refreshToken: 'resp-refresh-SECRET-abcdef'}
const SECRETS = [OPENAI, GEMINI, TELEGRAM, BASIC.username, BASIC.password, OAUTH.clientSecret, OAUTH.refreshToken]

function assertNoLeak(where: string, text: string): void {
  for (const secret of SECRETS) {
    const leaked = leakedSpellings(text, secret)
    assert.deepEqual(leaked, [], `${where}: ${JSON.stringify(secret.slice(0, 8))}... leaked as ${JSON.stringify(leaked)} in ${text}`)
  }
}

const header = (o: Outcome, name: string) => o.headers.find(([n]) => n === name)?.[1]
const bearerOf = (req: RecordedRequest) => (req.headers.authorization ?? '').replace(/^Bearer /, '')

/** Every way a server may echo `value` in a body: as is and in the encodings of issue 12 item 4. */
function encodedEchoes(value: string): string {
  const bytes = Buffer.from(value)
  const lower = encodeURIComponent(value).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase())
  const phpJson = JSON.stringify(value).slice(1, -1).replace(/\//g, '\\/')
  const gsonJson = JSON.stringify(value).slice(1, -1).replace(/[=+]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  const embedded = (prefix: string) => Buffer.concat([Buffer.from(prefix), bytes, Buffer.from('|tail')]).toString('base64')
  return [
    `raw=${value}`, `b64=${bytes.toString('base64')}`, `b64url=${bytes.toString('base64url')}`,
    `in-b64-0=${embedded('')}`, `in-b64-1=${embedded('a')}`, `in-b64-2=${embedded('ab')}`,
    `hex=${bytes.toString('hex')}`, `HEX=${bytes.toString('hex').toUpperCase()}`, `pct=${lower}`,
    `{"php":"${phpJson}","gson":"${gsonJson}"}`,
  ].join('\n')
}

describe('e2e hardening: keys never reach a caller through the response (issue 12 items 1-4)', function () {
  this.timeout(300_000)
  let up: Upstream
  let tv: TempVault
  let env: Record<string, string>
  let socket: string
  let served: Served
  let token: string

  before(async () => {
    up = await startUpstream()
    env = resolveEnv(up)
    tv = new TempVault()
    tv.env.AIVAULTD_IDLE_EXIT_MS = '300000'
    tv.ok(['init', '--testing'])
    tv.createSecret('OPENAI_API_KEY', OPENAI)
    tv.createSecret('GEMINI_API_KEY', GEMINI)
    tv.createSecret('TELEGRAM_BOT_TOKEN', TELEGRAM)
    const basicId = tv.createSecret('RESP_BASIC', JSON.stringify(BASIC))
    tv.ok(['credential', 'create', 'bas', '--provider', 'bas', '--secret-ref', `vault:secret:${basicId}`, '--auth', 'basic', '--host', 'api.example.com'])
    tv.ok(['capability', 'create', 'bas/cap', '--credential', 'bas', '--method', 'GET', '--path', '/v1'])
    const oauthId = tv.createSecret('RESP_OAUTH', JSON.stringify(OAUTH))
    tv.ok(['credential', 'create', 'oa', '--provider', 'oa', '--secret-ref', `vault:secret:${oauthId}`, '--auth', 'oauth2', '--grant-type', 'refresh_token',
      '--token-endpoint', 'https://auth.example.com/token', '--host', 'other.example.com', '--host', 'auth.example.com'])
    tv.ok(['capability', 'create', 'oa/cap', '--credential', 'oa', '--method', 'GET', '--path', '/v1', '--host', 'other.example.com'])
    tv.ok(['capability', 'policy', 'set', '--capability', 'openai/chat-completions', '--response-block', 'internal_token'])

    // Item 1: headers that carry the key.
    up.route('GET', '/v1beta/models/moved', (req, res) => {
      const key = new URLSearchParams(req.path.split('?')[1]).get('key')
      res.writeHead(302, {location: `https://generativelanguage.googleapis.com/v1beta/models/next?alt=json&key=${key}`, link: `</v1beta/models/next?key=${encodeURIComponent(key ?? '')}>; rel=next`}).end()
    })
    up.route('GET', '/v1beta/models/next', echo())
    // A redirect to a host naming the key: the URL parser lower-cases it before any message quotes it.
    up.route('GET', '/v1beta/models/elsewhere', (req, res) => {
      const key = new URLSearchParams(req.path.split('?')[1]).get('key')
      res.writeHead(302, {location: `https://${key}.evil.example/v1beta/models`}).end()
    })
    up.route('GET', `/bot${TELEGRAM}/getMe/moved`, (_req, res) => {
      res.writeHead(302, {location: `/bot${TELEGRAM}/getMe/canon/`}).end()
    })
    up.route('GET', `/bot${TELEGRAM}/getMe/outside`, (_req, res) => {
      res.writeHead(302, {location: `/bot${TELEGRAM}/getUpdates?offset=1`}).end()
    })
    up.route('GET', `/bot${TELEGRAM}/getMe/canon`, json(200, {ok: true, result: {is_bot: true}}))
    up.route('GET', '/v1/models/echo-headers', (req, res) => {
      const key = bearerOf(req)
      res.writeHead(401, {'www-authenticate': `Bearer error="invalid_token", token="${key}"`, 'x-echo': key, 'x-echo-b64': Buffer.from(key).toString('base64'), 'content-type': 'text/plain'}).end('no')
    })
    // Item 2: a token endpoint that quotes the refresh token in its error.
    up.route('POST', '/token', (req, res) => {
      const form = new URLSearchParams(req.body.toString('utf8'))
      json(400, {error: `invalid_grant: ${form.get('refresh_token')} / ${form.get('client_secret')}`})(req, res, new AbortController().signal)
    }, {host: 'auth.example.com'})
    // Item 3: --response-block on NDJSON and SSE answers.
    up.route('POST', '/v1/chat/completions/ndjson', (_req, res) => {
      res.writeHead(200, {'content-type': 'application/x-ndjson'})
      res.end([{n: 1, internal_token: 'leak-ndjson-1'}, {n: 2, deep: {internal_token: 'leak-ndjson-2'}}].map((l) => JSON.stringify(l)).join('\n') + '\n')
    })
    up.route('POST', '/v1/chat/completions/sse', (_req, res) => {
      res.writeHead(200, {'content-type': 'text/event-stream'})
      res.end(`data: ${JSON.stringify({choices: [{delta: {content: 'hi'}}], internal_token: 'leak-sse-1'})}\n\ndata: [DONE]\n\n`)
    })
    // Item 4: echoes in encodings, and behind transfer codings.
    const encodings: Handler = (req, res) => {
      const key = req.headers.authorization?.startsWith('Basic ') ? BASIC.username : bearerOf(req)
      res.writeHead(200, {'content-type': 'text/plain', 'x-user': key}).end(encodedEchoes(key))
    }
    up.route('GET', '/v1/models/encodings', encodings)
    up.route('GET', '/v1/echo-user', encodings)
    up.route('GET', '/v1/models/te-gzip', (req, res) => {
      res.writeHead(200, {'content-type': 'application/json', 'transfer-encoding': 'gzip, chunked'})
      res.end(gzipSync(JSON.stringify({authorization: req.headers.authorization})))
    })
    up.route('GET', '/v1/models/br-then-gzip', (req, res) => {
      res.writeHead(200, {'content-type': 'application/json', 'content-encoding': 'br', 'transfer-encoding': 'gzip, chunked'})
      res.end(gzipSync(brotliCompressSync(JSON.stringify({authorization: req.headers.authorization}))))
    })

    const started = await tv.runAsync(['daemon', 'restart', '--json'], {env})
    assert.equal(started.status, 0, started.stdout + started.stderr)
    socket = parseJson<{socket: string}>(started).socket
    served = await startServe(tv, env)
    token = (await mint(tv, ['gemini/models', 'telegram/get-me', 'openai/models', 'openai/chat-completions', 'oa/cap', 'bas/cap'])).token
  })

  after(async () => {
    await served?.stop()
    if (tv) {
      await tv.runAsync(['daemon', 'stop'], {env})
      await killDaemonsUnder(tv.base)
    }
    await up?.close()
    tv?.dispose()
  })

  /** The call through the broker library, raw frames (execute and execute_stream) and serve. */
  async function everyWire(call: Call, passthrough?: string): Promise<Array<[string, Outcome]>> {
    const all: Array<[string, Promise<Outcome>]> = [
      ['in-process', viaLibrary({...tv.env, ...env}, call)],
      ['aivaultd execute', viaFrames(socket, {...call, stream: false})],
      ['aivaultd execute_stream', viaFrames(socket, {...call, stream: true})],
      ['serve', viaServe(served, token, call)],
    ]
    if (passthrough) all.push(['serve passthrough', viaServe(served, token, call, passthrough)])
    return Promise.all(all.map(async ([where, result]) => [where, await result] as [string, Outcome]))
  }

  /** The call through the CLI, in-process and through aivaultd. */
  async function everyCli(call: Call): Promise<Array<[string, Outcome]>> {
    return Promise.all((['in-process', 'daemon'] as const).map(async (where) => [`cli ${where}`, await viaCli(tv, env, call, where)] as [string, Outcome]))
  }

  describe('item 1: response header values are scrubbed', () => {
    it('a Location and Link carrying query auth (gemini ?key=)', async () => {
      for (const [where, o] of await everyWire({capability: 'gemini/models', method: 'GET', path: '/v1beta/models/moved'}, 'gemini')) {
        assert.equal(o.status, 302, `${where}: ${o.text}`)
        assert.equal(header(o, 'location'), 'https://generativelanguage.googleapis.com/v1beta/models/next?alt=json&key=[REDACTED]', where)
        assert.match(header(o, 'link') ?? '', /key=\[REDACTED\]>/, where)
        assertNoLeak(where, o.text)
      }
    })

    it('a Location carrying path auth (telegram /bot<token>)', async () => {
      for (const [where, o] of await everyWire({capability: 'telegram/get-me', method: 'GET', path: '/getMe/moved'}, 'telegram')) {
        assert.equal(o.status, 302, `${where}: ${o.text}`)
        assert.equal(header(o, 'location'), '/bot[REDACTED]/getMe/canon/', where)
        assertNoLeak(where, o.text)
      }
    })

    it('www-authenticate and custom headers echoing the key, as is or in base64', async () => {
      for (const [where, o] of await everyWire({capability: 'openai/models', method: 'GET', path: '/v1/models/echo-headers'}, 'openai')) {
        assert.equal(o.status, 401, `${where}: ${o.text}`)
        assert.equal(header(o, 'www-authenticate'), 'Bearer error="invalid_token", token="[REDACTED]"', where)
        assert.equal(header(o, 'x-echo'), '[REDACTED]', where)
        assert.ok(header(o, 'x-echo-b64')?.startsWith('[REDACTED]'), `${where}: ${header(o, 'x-echo-b64')}`)
        assertNoLeak(where, o.text)
      }
    })
  })

  describe('item 2: no error message or audit line carries the key', () => {
    it('a refused redirect outside the capability names the path without the path auth', async () => {
      const call: Call = {capability: 'telegram/get-me', method: 'GET', path: '/getMe/outside', followRedirects: true}
      const outcomes = [...(await everyCli(call)), ['in-process', await viaLibrary({...tv.env, ...env}, call)] as [string, Outcome], ['aivaultd', await viaFrames(socket, call)] as [string, Outcome]]
      for (const [where, o] of outcomes) {
        assert.ok(o.error, `${where}: ${o.text}`)
        assert.match(o.error.message, /refusing a redirect outside the capability \(\/getUpdates\)/, where)
        assertNoLeak(where, o.text)
      }
      assertNoLeak('audit log', auditFilesText(tv))
    })

    it('a refused redirect to a host naming the key quotes it redacted, in any case, on every entry point', async () => {
      const call: Call = {capability: 'gemini/models', method: 'GET', path: '/v1beta/models/elsewhere', followRedirects: true}
      const outcomes = [...(await everyCli(call)), ['in-process', await viaLibrary({...tv.env, ...env}, call)] as [string, Outcome], ['aivaultd', await viaFrames(socket, call)] as [string, Outcome]]
      for (const [where, o] of outcomes) {
        assert.ok(o.error, `${where}: ${o.text}`)
        assert.match(o.error.message, /refusing a redirect to another host \(https:\/\/\[REDACTED\]\.evil\.example\)/, where)
        assert.ok(!o.text.toLowerCase().includes(GEMINI.toLowerCase()), `${where}: ${o.text}`)
        assertNoLeak(where, o.text)
      }
      assert.ok(!auditFilesText(tv).toLowerCase().includes(GEMINI.toLowerCase()), 'audit log')
    })

    it('a redirect within the capability is followed: the path auth prefix and query auth are injected once again, not twice', async () => {
      const before = up.requests.length
      const telegram = await viaLibrary({...tv.env, ...env}, {capability: 'telegram/get-me', method: 'GET', path: '/getMe/moved', followRedirects: true})
      assert.equal(telegram.status, 200, telegram.text)
      const gemini = await viaLibrary({...tv.env, ...env}, {capability: 'gemini/models', method: 'GET', path: '/v1beta/models/moved', followRedirects: true})
      assert.equal(gemini.status, 200, gemini.text)
      const hops = up.requests.slice(before)
      assert.deepEqual(hops.map((r) => r.pathname), [`/bot${TELEGRAM}/getMe/moved`, `/bot${TELEGRAM}/getMe/canon/`, '/v1beta/models/moved', '/v1beta/models/next'])
      assert.deepEqual(hops[3].query, [['alt', 'json'], ['key', GEMINI]])
      assertNoLeak('followed', telegram.text + gemini.text)
    })

    it('a token endpoint error quoting the refresh token and client secret', async () => {
      const call: Call = {capability: 'oa/cap', method: 'GET', path: '/v1/x'}
      for (const [where, o] of [...(await everyWire(call)), ...(await everyCli(call))]) {
        assert.ok(o.error, `${where}: ${o.text}`)
        if (o.error.code !== 'cli') assert.equal(o.error.code, 'oauth_refresh_failed', where)
        assert.match(o.text, /invalid_grant: \[REDACTED\] \/ \[REDACTED\]/, where)
        assertNoLeak(where, o.text)
      }
      assertNoLeak('audit log', auditFilesText(tv))
    })
  })

  describe('item 3: --response-block redacts NDJSON lines and SSE data JSON', () => {
    for (const format of ['ndjson', 'sse']) {
      it(`${format}, streamed or not`, async () => {
        const call: Call = {capability: 'openai/chat-completions', method: 'POST', path: `/v1/chat/completions/${format}`, body: '{"stream":true}'}
        const outcomes = [...(await everyWire(call)), ...(await everyCli(call)), ...(await everyCli({...call, stream: true}))]
        for (const [where, o] of outcomes) {
          assert.equal(o.error, undefined, `${where}: ${o.text}`)
          assert.ok(!o.body.includes('leak-'), `${where}: ${o.body}`)
          assert.ok(o.body.includes('"internal_token":"[REDACTED]"'), `${where}: ${o.body}`)
        }
      })
    }
  })

  describe('item 4: echoes in common encodings are scrubbed', () => {
    it('base64 (three alignments), base64url, hex, lower-case %xx and JSON escapes of the key', async () => {
      const call: Call = {capability: 'openai/models', method: 'GET', path: '/v1/models/encodings'}
      for (const [where, o] of [...(await everyWire(call, 'openai')), ...(await everyCli(call))]) {
        assert.equal(o.error, undefined, `${where}: ${o.text}`)
        assertNoLeak(where, o.text)
        for (const line of o.body.split('\n')) assert.ok(line.includes('[REDACTED]'), `${where}: nothing redacted in ${line}`)
        for (const prefix of ['', 'a', 'ab']) {
          const embedded = o.body.split('\n').find((l) => l.startsWith(`in-b64-${prefix.length}=`))!.slice(9)
          const decoded = Buffer.from(embedded.replace('[REDACTED]', ''), 'base64').toString('latin1')
          assert.ok(!decoded.includes(OPENAI.slice(0, 12)), `${where}: alignment ${prefix.length} decodes to ${decoded}`)
        }
      }
    })

    it('the basic-auth user name, in a header and the body', async () => {
      const call: Call = {capability: 'bas/cap', method: 'GET', path: '/v1/echo-user'}
      for (const [where, o] of [...(await everyWire(call)), ...(await everyCli(call))]) {
        assert.equal(o.error, undefined, `${where}: ${o.text}`)
        if (!where.startsWith('cli')) assert.equal(header(o, 'x-user'), '[REDACTED]', where)
        assertNoLeak(where, o.text)
      }
    })

    it('bodies behind Transfer-Encoding: gzip, alone or on top of Content-Encoding: br', async () => {
      for (const path of ['/v1/models/te-gzip', '/v1/models/br-then-gzip']) {
        const call: Call = {capability: 'openai/models', method: 'GET', path}
        for (const [where, o] of [...(await everyWire(call, 'openai')), ...(await everyCli(call))]) {
          assert.equal(o.error, undefined, `${path} ${where}: ${o.text}`)
          assert.deepEqual(JSON.parse(o.body), {authorization: 'Bearer [REDACTED]'}, `${path} ${where}`)
          assert.equal(header(o, 'content-encoding'), undefined, where)
        }
      }
    })
  })
})

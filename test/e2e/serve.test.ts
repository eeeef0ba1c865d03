/**
 * End-to-end tests of `aivault serve` and proxy tokens (SPEC §10, §12, §15 "HTTP server" and
 * the `token mint|list` JSON shapes). The built CLI serves on a random loopback port in its own
 * process; the official OpenAI and Anthropic SDKs (and raw HTTP) talk to it with proxy tokens;
 * a local HTTPS upstream stands in for the providers and records what actually left.
 */
import Anthropic from '@anthropic-ai/sdk'
import * as assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import * as net from 'node:net'
import OpenAI from 'openai'

import {TempVault, assertNoSecrets, auditEvents, auditFilesText, parseJson} from './fixture'
import {assertProblem, mint, request, requestTexts, startServe, type Minted, type Reply, type Served} from './serve-helpers'
import {delay, json, resolveEnv, sensitiveHeaders, sse, startUpstream, type Handler, type Upstream} from './upstream'

const OPENAI_KEY = 'sk-serve-e2e-OPENAI-SECRET-0123456789'
const ANTHROPIC_KEY = 'sk-ant-serve-e2e-ANTHROPIC-SECRET-abcdef'
const GEMINI_KEY = 'AIza-serve-e2e-GEMINI-SECRET-xyz987'
const REAL_KEYS = [OPENAI_KEY, ANTHROPIC_KEY, GEMINI_KEY]


/** A chat.completion as the OpenAI API returns it. */
const COMPLETION = {
  id: 'chatcmpl-serve-e2e-1', object: 'chat.completion', created: 1_700_000_000, model: 'gpt-e2e',
  choices: [{index: 0, message: {role: 'assistant', content: 'Hello from the local upstream', refusal: null}, logprobs: null, finish_reason: 'stop'}],
  usage: {prompt_tokens: 3, completion_tokens: 5, total_tokens: 8},
}
const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
  id: 'chatcmpl-serve-e2e-stream', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-e2e',
  choices: [{index: 0, delta, logprobs: null, finish_reason: finish}],
})
const STREAM_PIECES = ['Hel', 'lo, ', 'stream', 'ing world']

describe('e2e serve: SDKs, proxy tokens, problems, audit', function () {
  this.timeout(120_000)
  let up: Upstream
  let tv: TempVault
  let env: Record<string, string>
  let serve: Served
  /** openai/chat-completions + openai/models */
  let tOpenAI: Minted
  /** openai/models only */
  let tModels: Minted
  let tAnthropic: Minted
  let tGemini: Minted
  /** openai/embeddings (rate limited to 1 per minute) */
  let tEmbed: Minted
  const allTokens: string[] = []
  let streamHandler: ReturnType<typeof sse>
  const v = (credential: string, rest: string) => `${serve.base}/v/${credential}${rest}`

  before(async () => {
    up = await startUpstream()
    env = resolveEnv(up)
    tv = new TempVault()
    tv.ok(['init', '--testing'])
    tv.createSecret('OPENAI_API_KEY', OPENAI_KEY)
    tv.createSecret('ANTHROPIC_API_KEY', ANTHROPIC_KEY)
    tv.createSecret('GEMINI_API_KEY', GEMINI_KEY)
    tv.ok(['capability', 'policy', 'set', '--capability', 'openai/embeddings', '--rate-limit-per-minute', '1'])
    ;[tOpenAI, tModels, tAnthropic, tGemini, tEmbed] = await Promise.all([
      mint(tv, ['openai/chat-completions', 'openai/models']),
      mint(tv, ['openai/models']),
      mint(tv, ['anthropic/messages']),
      mint(tv, ['gemini/models']),
      mint(tv, ['openai/embeddings']),
    ])
    allTokens.push(...[tOpenAI, tModels, tAnthropic, tGemini, tEmbed].map((t) => t.token))

    streamHandler = sse([...STREAM_PIECES.map((p, i) => chunk(i === 0 ? {role: 'assistant', content: p} : {content: p})), chunk({}, 'stop'), '[DONE]'], {delayMs: 250})
    const chat: Handler = (req, res, signal) => {
      const body = JSON.parse(req.body.toString('utf8') || '{}')
      return (body.stream ? streamHandler : json(200, COMPLETION))(req, res, signal)
    }
    up.route('POST', '/v1/chat/completions', chat, {host: 'api.openai.com'})
    up.route('GET', '/v1/models', json(200, {object: 'list', data: [{id: 'gpt-e2e', object: 'model', created: 0, owned_by: 'e2e'}]}), {host: 'api.openai.com'})
    up.route('GET', '/v1/models/missing-model', json(404, {error: {message: 'The model missing-model does not exist', type: 'invalid_request_error'}}, {'x-request-id': 'req_404'}), {host: 'api.openai.com'})
    up.route('GET', '/v1/models/headers', sensitiveHeaders({object: 'model', id: 'headers'}), {host: 'api.openai.com'})
    up.route('GET', '/v1/models/slow', delay(5000, json(200, {object: 'model', id: 'slow'})), {host: 'api.openai.com'})
    up.route('POST', '/v1/embeddings', json(200, {object: 'list', data: [{object: 'embedding', index: 0, embedding: [0.1, 0.2]}], model: 'e2e', usage: {prompt_tokens: 1, total_tokens: 1}}), {host: 'api.openai.com'})
    up.route('POST', '/v1/messages', json(200, {
      id: 'msg_serve_e2e_1', type: 'message', role: 'assistant', model: 'claude-e2e', content: [{type: 'text', text: 'Hi from the Anthropic stand-in'}],
      stop_reason: 'end_turn', stop_sequence: null, usage: {input_tokens: 3, output_tokens: 6},
    }), {host: 'api.anthropic.com'})
    up.route('GET', '/v1beta/models', json(200, {models: [{name: 'models/gemini-e2e'}]}), {host: 'generativelanguage.googleapis.com'})

    serve = await startServe(tv, env)
  })

  after(async () => {
    await serve?.stop()
    await up?.close()
    tv?.dispose()
  })

  describe('real SDK clients (SPEC §10 passthrough)', () => {
    it('openai SDK chat.completions.create gets the upstream answer; upstream saw the real key, never the token', async () => {
      const before = up.requests.length
      const client = new OpenAI({baseURL: v('openai', '/v1'), apiKey: tOpenAI.token, maxRetries: 0, timeout: 30_000})
      const completion = await client.chat.completions.create({model: 'gpt-e2e', messages: [{role: 'user', content: 'say hello'}]})
      assert.equal(completion.id, COMPLETION.id)
      assert.equal(completion.choices[0].message.content, 'Hello from the local upstream')
      assert.equal(completion.usage?.total_tokens, 8)

      const seen = up.requests.slice(before)
      assert.equal(seen.length, 1, 'exactly one upstream request')
      const [r] = seen
      assert.equal(r.method, 'POST')
      assert.equal(r.pathname, '/v1/chat/completions')
      assert.equal(r.servername, 'api.openai.com')
      assert.equal(r.headers.host, 'api.openai.com')
      assert.equal(r.headers.authorization, `Bearer ${OPENAI_KEY}`)
      assert.equal(r.rawHeaders.filter(([n]) => n.toLowerCase() === 'authorization').length, 1, 'one authorization header')
      const sent = JSON.parse(r.body.toString('utf8'))
      assert.equal(sent.model, 'gpt-e2e')
      assert.deepEqual(sent.messages, [{role: 'user', content: 'say hello'}])
      assertNoSecrets(requestTexts(seen), [tOpenAI.token])
    })

    it('openai SDK streaming: chunks arrive as the upstream sends them and the SDK iterates them', async () => {
      const before = up.requests.length
      const client = new OpenAI({baseURL: v('openai', '/v1'), apiKey: tOpenAI.token, maxRetries: 0, timeout: 30_000})
      const stream = await client.chat.completions.create({model: 'gpt-e2e', messages: [{role: 'user', content: 'stream please'}], stream: true})
      const pieces: string[] = []
      const arrivedAt: number[] = []
      let finish: string | null = null
      for await (const c of stream) {
        arrivedAt.push(Date.now())
        pieces.push(c.choices[0]?.delta?.content ?? '')
        finish = c.choices[0]?.finish_reason ?? finish
      }
      assert.equal(pieces.join(''), STREAM_PIECES.join(''))
      assert.equal(finish, 'stop')
      assert.equal(arrivedAt.length, STREAM_PIECES.length + 1)
      const lastSent = streamHandler.sentAt[streamHandler.sentAt.length - 1]
      assert.ok(arrivedAt[0] < lastSent, `the first chunk arrived ${arrivedAt[0] - lastSent} ms after the upstream's last event: buffered, not streamed`)
      const seen = up.requests.slice(before)
      assert.equal(seen.length, 1)
      assert.equal(seen[0].headers.authorization, `Bearer ${OPENAI_KEY}`)
      assert.equal(JSON.parse(seen[0].body.toString('utf8')).stream, true)
      assertNoSecrets(requestTexts(seen), [tOpenAI.token])
    })

    it('openai SDK shows the broker message of a refusal (the problem document carries error.message)', async () => {
      // tModels covers openai/models only: a chat completion is refused by serve, not the upstream.
      const client = new OpenAI({baseURL: v('openai', '/v1'), apiKey: tModels.token, maxRetries: 0, timeout: 30_000})
      const before = up.requests.length
      await assert.rejects(client.chat.completions.create({model: 'gpt-e2e', messages: [{role: 'user', content: 'hi'}]}), (error: any) => {
        assert.equal(error.status, 403)
        assert.match(String(error.message), /does not cover openai\/chat-completions/)
        return true
      })
      assert.equal(up.requests.length, before)
    })

    it('openai SDK sees an upstream error status as is (404 JSON, not a broker problem)', async () => {
      const client = new OpenAI({baseURL: v('openai', '/v1'), apiKey: tOpenAI.token, maxRetries: 0, timeout: 30_000})
      await assert.rejects(client.models.retrieve('missing-model'), (error: any) => {
        assert.equal(error.status, 404)
        assert.match(String(error.message), /missing-model does not exist/)
        return true
      })
      const raw = await request(v('openai', '/v1/models/missing-model'), {headers: {authorization: `Bearer ${tOpenAI.token}`}})
      assert.equal(raw.status, 404)
      assert.match(String(raw.headers['content-type']), /^application\/json/)
      assert.deepEqual(JSON.parse(raw.body), {error: {message: 'The model missing-model does not exist', type: 'invalid_request_error'}})
    })

    it('anthropic SDK messages.create works; upstream saw x-api-key: <real key> and no token', async () => {
      const before = up.requests.length
      const client = new Anthropic({baseURL: v('anthropic', ''), apiKey: tAnthropic.token, maxRetries: 0, timeout: 30_000})
      const message = await client.messages.create({model: 'claude-e2e', max_tokens: 32, messages: [{role: 'user', content: 'hello claude'}]})
      assert.equal(message.id, 'msg_serve_e2e_1')
      assert.deepEqual(message.content.map((b) => (b.type === 'text' ? b.text : b.type)), ['Hi from the Anthropic stand-in'])
      const seen = up.requests.slice(before)
      assert.equal(seen.length, 1)
      const [r] = seen
      assert.equal(r.pathname, '/v1/messages')
      assert.equal(r.servername, 'api.anthropic.com')
      assert.equal(r.headers['x-api-key'], ANTHROPIC_KEY)
      assert.equal(r.rawHeaders.filter(([n]) => n.toLowerCase() === 'x-api-key').length, 1, 'one x-api-key header')
      assert.equal(r.headers.authorization, undefined, 'no authorization header upstream')
      assert.ok(r.headers['anthropic-version'], 'the SDK\'s anthropic-version header is forwarded')
      assert.deepEqual(JSON.parse(r.body.toString('utf8')).messages, [{role: 'user', content: 'hello claude'}])
      assertNoSecrets(requestTexts(seen), [tAnthropic.token])
    })
  })

  describe('workers', () => {
    it('serve --workers 2 shares the port and every worker checks proxy tokens', async () => {
      const clustered = await startServe(tv, env, ['--workers', '2'])
      try {
        assert.match(clustered.output(), /\(2 workers\)/)
        const calls = await Promise.all(
          Array.from({length: 6}, () => fetch(`${clustered.base}/v/openai/v1/models`, {headers: {authorization: `Bearer ${tModels.token}`}})),
        )
        for (const r of calls) assert.equal(r.status, 200)
        const refused = await fetch(`${clustered.base}/v/openai/v1/models`, {headers: {authorization: 'Bearer avp_not-a-real-token-0000000000000'}})
        assert.equal(refused.status, 401)
      } finally {
        await clustered.stop()
      }
    })
  })

  describe('routes and token placement', () => {
    it('GET /aivault/health answers 200 without a token', async () => {
      const reply = await request(`${serve.base}/aivault/health`)
      assert.equal(reply.status, 200, reply.body)
    })

    it('POST /aivault/proxy with Authorization: Bearer and an envelope relays the upstream reply', async () => {
      const before = up.requests.length
      const reply = await request(`${serve.base}/aivault/proxy`, {
        method: 'POST',
        headers: {authorization: `Bearer ${tOpenAI.token}`, 'content-type': 'application/json'},
        body: JSON.stringify({capability: 'openai/models', request: {method: 'GET', path: '/v1/models'}}),
      })
      assert.equal(reply.status, 200, reply.body)
      assert.equal(JSON.parse(reply.body).data[0].id, 'gpt-e2e')
      const seen = up.requests.slice(before)
      assert.equal(seen.length, 1)
      assert.equal(seen[0].pathname, '/v1/models')
      assert.equal(seen[0].headers.authorization, `Bearer ${OPENAI_KEY}`)
      assertNoSecrets(requestTexts(seen), [tOpenAI.token])
    })

    it('POST /aivault/proxy: an envelope naming a url is refused (403 policy_violation), an unknown field is invalid_request', async () => {
      const before = up.requests.length
      const post = (envelope: unknown) => request(`${serve.base}/aivault/proxy`, {
        method: 'POST', headers: {authorization: `Bearer ${tOpenAI.token}`, 'content-type': 'application/json'}, body: JSON.stringify(envelope),
      })
      assertProblem(await post({capability: 'openai/models', request: {method: 'GET', path: '/v1/models', url: 'https://evil.example.com/'}}), 403, 'policy_violation', 'url field')
      const unknown = await post({capability: 'openai/models', request: {method: 'GET', path: '/v1/models'}, surprise: true})
      assert.equal(JSON.parse(unknown.body).code, 'invalid_request', unknown.body)
      assert.match(String(unknown.headers['content-type']), /^application\/problem\+json/)
      assert.ok(unknown.status >= 400 && unknown.status < 500, `status ${unknown.status}`)
      assert.equal(up.requests.length, before, 'a refused envelope reached the upstream')
    })

    it('the token works as Authorization: Bearer and as x-api-key, and is removed before the request leaves', async () => {
      const before = up.requests.length
      const bearer = await request(v('openai', '/v1/models'), {headers: {authorization: `Bearer ${tModels.token}`}})
      const apiKey = await request(v('openai', '/v1/models'), {headers: {'x-api-key': tModels.token}})
      for (const [name, reply] of Object.entries({bearer, apiKey})) {
        assert.equal(reply.status, 200, `${name}: ${reply.body}`)
        assert.equal(JSON.parse(reply.body).data[0].id, 'gpt-e2e')
      }
      const seen = up.requests.slice(before)
      assert.equal(seen.length, 2)
      for (const r of seen) {
        assert.equal(r.headers.authorization, `Bearer ${OPENAI_KEY}`)
        assert.equal(r.headers['x-api-key'], undefined, 'the caller\'s x-api-key went upstream')
      }
      assertNoSecrets(requestTexts(seen), [tModels.token])
    })

    it('gemini: the token as ?key= is accepted and replaced by key=<real key> upstream', async () => {
      const before = up.requests.length
      const reply = await request(v('gemini', `/v1beta/models?pageSize=5&key=${encodeURIComponent(tGemini.token)}`))
      assert.equal(reply.status, 200, reply.body)
      assert.deepEqual(JSON.parse(reply.body), {models: [{name: 'models/gemini-e2e'}]})
      const seen = up.requests.slice(before)
      assert.equal(seen.length, 1)
      const [r] = seen
      assert.equal(r.pathname, '/v1beta/models')
      assert.equal(r.servername, 'generativelanguage.googleapis.com')
      assert.deepEqual(r.query.filter(([n]) => n === 'key'), [['key', GEMINI_KEY]], `query upstream: ${r.path}`)
      assert.deepEqual(r.query.filter(([n]) => n === 'pageSize'), [['pageSize', '5']], 'other query parameters are kept')
      assertNoSecrets(requestTexts(seen), [tGemini.token])
    })

    it('dot segments in a passthrough path are refused (403 policy_violation), not silently resolved (SPEC §7 step 4, every entry point)', async () => {
      const before = up.requests.length
      // tOpenAI covers both openai/models and openai/chat-completions, so only the path's spelling can be refused.
      const paths = [
        '/v/openai/v1/chat/completions/../../models',
        '/v/openai/v1/chat/%2e%2e/models',
        '/v/openai/v1/chat/%2E./models',
        '/v/openai/v1/models/./x',
        '/v/openai/v1/models%2f..%2fx',
      ]
      const wrong: string[] = []
      for (const rawPath of paths) {
        const reply = await request(serve.base, {rawPath, headers: {authorization: `Bearer ${tOpenAI.token}`}})
        let code: string | undefined
        try {
          code = JSON.parse(reply.body).code
        } catch {
          code = undefined
        }
        if (reply.status !== 403 || code !== 'policy_violation') wrong.push(`${rawPath} -> ${reply.status} ${code ?? reply.body.slice(0, 80)}`)
      }
      assert.deepEqual(wrong, [], 'these passthrough paths were not refused with 403 policy_violation')
      assert.equal(up.requests.length, before, 'a traversal path reached the upstream')
    })

    it('response headers: set-cookie, x-api-key and hop-by-hop ones are removed, harmless ones kept', async () => {
      const reply = await request(v('openai', '/v1/models/headers'), {headers: {authorization: `Bearer ${tModels.token}`}})
      assert.equal(reply.status, 200, reply.body)
      assert.equal(reply.headers['set-cookie'], undefined)
      assert.equal(reply.headers['x-api-key'], undefined)
      assert.equal(reply.headers['proxy-authenticate'], undefined)
      assert.equal(reply.headers['x-request-id'], 'req_fixture_1')
      assert.deepEqual(JSON.parse(reply.body), {object: 'model', id: 'headers'})
    })
  })

  describe('token rules (SPEC §10, §15)', () => {
    it('token mint --json is {id, token, expiresAt, capabilities} with an avp_ token and the default 15m expiry', async () => {
      const startedAt = Date.now()
      const minted = await mint(tv, ['openai/models', 'anthropic/messages'])
      allTokens.push(minted.token)
      for (const field of ['id', 'token', 'expiresAt', 'capabilities']) assert.ok(field in minted, `mint lacks ${field}: ${JSON.stringify(minted)}`)
      assert.equal(typeof minted.id, 'string')
      assert.match(minted.token, /^avp_\S{20,}$/)
      assert.deepEqual([...minted.capabilities].sort(), ['anthropic/messages', 'openai/models'])
      const expires = Date.parse(minted.expiresAt)
      assert.ok(!Number.isNaN(expires), `expiresAt ${minted.expiresAt}`)
      assert.ok(Math.abs(expires - startedAt - 15 * 60_000) < 60_000, `default ttl is 15m: ${minted.expiresAt}`)
      const hour = await mint(tv, ['openai/models'], ['--ttl', '1h'])
      allTokens.push(hour.token)
      assert.ok(Math.abs(Date.parse(hour.expiresAt) - startedAt - 3_600_000) < 60_000, `--ttl 1h: ${hour.expiresAt}`)
      assert.notEqual(hour.token, minted.token)
      assert.notEqual(hour.id, minted.id)
    })

    it('a token for capability A cannot call capability B: 403 policy_violation, nothing sent', async () => {
      const before = up.requests.length
      // tModels covers openai/models only.
      assertProblem(await request(v('openai', '/v1/chat/completions'), {
        method: 'POST', headers: {authorization: `Bearer ${tModels.token}`, 'content-type': 'application/json'}, body: JSON.stringify({model: 'x', messages: []}),
      }), 403, 'policy_violation', 'passthrough to chat-completions')
      assertProblem(await request(`${serve.base}/aivault/proxy`, {
        method: 'POST', headers: {authorization: `Bearer ${tModels.token}`, 'content-type': 'application/json'},
        body: JSON.stringify({capability: 'openai/chat-completions', request: {method: 'POST', path: '/v1/chat/completions', body: '{}'}}),
      }), 403, 'policy_violation', 'proxy envelope for chat-completions')
      // An anthropic token on the openai credential.
      assertProblem(await request(v('openai', '/v1/models'), {headers: {authorization: `Bearer ${tAnthropic.token}`}}), 403, 'policy_violation', 'anthropic token on openai')
      assert.equal(up.requests.length, before, 'a refused call reached the upstream')
    })

    it('missing and unknown tokens: 401 token_invalid on both routes, nothing sent', async () => {
      const before = up.requests.length
      const forged = `avp_${'A'.repeat(43)}`
      const proxyBody = JSON.stringify({capability: 'openai/models', request: {method: 'GET', path: '/v1/models'}})
      const cases: Array<[string, Promise<Reply>]> = [
        ['passthrough, no token', request(v('openai', '/v1/models'))],
        ['passthrough, forged avp_ token', request(v('openai', '/v1/models'), {headers: {authorization: `Bearer ${forged}`}})],
        ['passthrough, forged x-api-key', request(v('openai', '/v1/models'), {headers: {'x-api-key': forged}})],
        ['passthrough, malformed avp_ token', request(v('openai', '/v1/models'), {headers: {authorization: 'Bearer avp_../../run/tokens/0000000000000000'}})],
        ['passthrough, too short an avp_ token', request(v('openai', '/v1/models'), {headers: {authorization: 'Bearer avp_short'}})],
        ['passthrough, the real key instead of a token', request(v('openai', '/v1/models'), {headers: {authorization: `Bearer ${OPENAI_KEY}`}})],
        ['gemini, forged ?key=', request(v('gemini', `/v1beta/models?key=${forged}`))],
        ['proxy, no token', request(`${serve.base}/aivault/proxy`, {method: 'POST', headers: {'content-type': 'application/json'}, body: proxyBody})],
        ['proxy, forged token', request(`${serve.base}/aivault/proxy`, {method: 'POST', headers: {authorization: `Bearer ${forged}`, 'content-type': 'application/json'}, body: proxyBody})],
      ]
      for (const [what, reply] of cases) assertProblem(await reply, 401, 'token_invalid', what)
      assert.equal(up.requests.length, before, 'an unauthenticated call reached the upstream')
    })

    it('an expired token is 401 token_invalid (its record\'s expiry moved into the past, no waiting)', async () => {
      const short = await mint(tv, ['openai/models'], ['--ttl', '1h'])
      allTokens.push(short.token)
      const early = await request(v('openai', '/v1/models'), {headers: {authorization: `Bearer ${short.token}`}})
      assert.equal(early.status, 200, `before expiry: ${early.body}`)
      // The token's record (run/tokens/<sha256 of the token>.json) replaced the way aivault
      // writes records, with an expiry a minute ago: serve's next check must refuse it.
      const file = path.join(tv.root, 'run', 'tokens', `${createHash('sha256').update(short.token).digest('hex')}.json`)
      const record = JSON.parse(fs.readFileSync(file, 'utf8'))
      assert.equal(record.expiresAt, short.expiresAt)
      const temp = `${file}.expired.tmp`
      fs.writeFileSync(temp, JSON.stringify({...record, expiresAt: new Date(Date.now() - 60_000).toISOString()}) + '\n', {mode: 0o600})
      fs.renameSync(temp, file)
      const before = up.requests.length
      assertProblem(await request(v('openai', '/v1/models'), {headers: {authorization: `Bearer ${short.token}`}}), 401, 'token_invalid', 'expired, passthrough')
      assertProblem(await request(`${serve.base}/aivault/proxy`, {
        method: 'POST', headers: {authorization: `Bearer ${short.token}`, 'content-type': 'application/json'},
        body: JSON.stringify({capability: 'openai/models', request: {method: 'GET', path: '/v1/models'}}),
      }), 401, 'token_invalid', 'expired, proxy')
      assert.equal(up.requests.length, before)
    })

    it('a revoked token is 401 token_invalid, and token list shows it revoked', async () => {
      const doomed = await mint(tv, ['openai/models'])
      allTokens.push(doomed.token)
      const ok = await request(v('openai', '/v1/models'), {headers: {authorization: `Bearer ${doomed.token}`}})
      assert.equal(ok.status, 200, ok.body)
      const revoked = await tv.runAsync(['token', 'revoke', doomed.id])
      assert.equal(revoked.status, 0, revoked.stdout + revoked.stderr)
      const before = up.requests.length
      assertProblem(await request(v('openai', '/v1/models'), {headers: {authorization: `Bearer ${doomed.token}`}}), 401, 'token_invalid', 'revoked')
      assert.equal(up.requests.length, before)
      const list = parseJson<{tokens: any[]}>(await tv.runAsync(['token', 'list', '--json']))
      const entry = list.tokens.find((t) => t.id === doomed.id)
      assert.ok(entry, `revoked token ${doomed.id} missing from token list`)
      assert.equal(entry.revoked, true)
      assert.equal(list.tokens.find((t) => t.id === tOpenAI.id)?.revoked, false)
    })

    it('token list --json is {tokens: [{id, capabilities, expiresAt, revoked}]} and never shows a token', async () => {
      const [jsonRun, humanRun] = await Promise.all([tv.runAsync(['token', 'list', '--json']), tv.runAsync(['token', 'list'])])
      assert.equal(jsonRun.status, 0, jsonRun.stderr)
      assert.equal(humanRun.status, 0, humanRun.stderr)
      const list = parseJson<{tokens: any[]}>(jsonRun)
      assert.ok(Array.isArray(list.tokens))
      for (const t of list.tokens) {
        assert.equal(typeof t.id, 'string')
        assert.ok(Array.isArray(t.capabilities) && t.capabilities.every((c: unknown) => typeof c === 'string'), JSON.stringify(t))
        assert.ok(!Number.isNaN(Date.parse(t.expiresAt)), JSON.stringify(t))
        assert.equal(typeof t.revoked, 'boolean')
      }
      for (const minted of [tOpenAI, tModels, tAnthropic, tGemini, tEmbed]) {
        const entry = list.tokens.find((t) => t.id === minted.id)
        assert.ok(entry, `token ${minted.id} not listed`)
        assert.deepEqual(entry.capabilities, minted.capabilities)
        assert.equal(entry.expiresAt, minted.expiresAt)
      }
      assertNoSecrets({'token list --json': jsonRun.stdout + jsonRun.stderr, 'token list': humanRun.stdout + humanRun.stderr}, allTokens)
      assert.ok(!/avp_/.test(jsonRun.stdout + humanRun.stdout), 'something token-like is printed by token list')
    })
  })

  describe('problem responses (SPEC §15 "HTTP server")', () => {
    it('an unknown credential in /v/<id>/... is 404 credential_not_found', async () => {
      const before = up.requests.length
      assertProblem(await request(v('no-such-credential', '/v1/models'), {headers: {authorization: `Bearer ${tOpenAI.token}`}}), 404, 'credential_not_found')
      assert.equal(up.requests.length, before)
    })

    it('a rate limit of 1 per minute: the second call is 429 rate_limited', async () => {
      const call = () => request(v('openai', '/v1/embeddings'), {
        method: 'POST', headers: {authorization: `Bearer ${tEmbed.token}`, 'content-type': 'application/json'}, body: JSON.stringify({model: 'e2e', input: 'x'}),
      })
      const first = await call()
      assert.equal(first.status, 200, first.body)
      const before = up.requests.length
      assertProblem(await call(), 429, 'rate_limited', 'second embeddings call')
      assert.equal(up.requests.length, before, 'a rate-limited call reached the upstream')
    })

    it('an upstream slower than the envelope timeoutMs is 504 upstream_timeout', async () => {
      const startedAt = Date.now()
      const reply = await request(`${serve.base}/aivault/proxy`, {
        method: 'POST', headers: {authorization: `Bearer ${tModels.token}`, 'content-type': 'application/json'},
        body: JSON.stringify({capability: 'openai/models', request: {method: 'GET', path: '/v1/models/slow'}, timeoutMs: 500}),
      })
      assertProblem(reply, 504, 'upstream_timeout')
      assert.ok(Date.now() - startedAt < 4500, `the timeout took ${Date.now() - startedAt} ms`)
    })

    it('an unreachable upstream is 502 upstream_unreachable', async () => {
      const closedPort = await new Promise<number>((resolve) => {
        const probe = net.createServer().listen(0, '127.0.0.1', () => {
          const {port} = probe.address() as net.AddressInfo
          probe.close(() => resolve(port))
        })
      })
      const dead = await startServe(tv, {...env, AIVAULT_DEV_RESOLVE: `api.openai.com=127.0.0.1:${closedPort}`})
      try {
        assertProblem(await request(`${dead.base}/v/openai/v1/models`, {headers: {authorization: `Bearer ${tOpenAI.token}`}}), 502, 'upstream_unreachable')
      } finally {
        await dead.stop()
      }
    })
  })

  describe('env --serve and audit', () => {
    it('env --serve --token <t> --json lists the OpenAI base URL and the token as OPENAI_API_KEY', () => {
      const result = tv.run(['env', '--serve', '--token', tOpenAI.token, '--json'])
      assert.equal(result.status, 0, result.stdout + result.stderr)
      const out = parseJson<any>(result)
      const vars = out.variables ?? out
      assert.equal(vars.OPENAI_BASE_URL, 'http://127.0.0.1:8787/v/openai/v1', result.stdout)
      assert.equal(vars.OPENAI_API_KEY, tOpenAI.token, result.stdout)
      assert.ok(!result.stdout.includes(OPENAI_KEY), 'env printed the real key')
    })

    it('serve invocations log capability.invoke with clientIp, token.mint events exist, and no token or key is in audit/', async () => {
      // The invoke event is appended once the body has been relayed: give it a moment.
      let invokes: any[] = []
      for (let i = 0; i < 40; i++) {
        invokes = auditEvents(tv).filter((e) => e.kind === 'capability.invoke')
        if (invokes.some((e) => e.capability === 'anthropic/messages') && invokes.some((e) => e.capability === 'gemini/models')) break
        await sleep(100)
      }
      const chat = invokes.filter((e) => e.capability === 'openai/chat-completions')
      assert.ok(chat.length >= 2, `capability.invoke events for openai/chat-completions: ${JSON.stringify(invokes)}`)
      for (const capability of ['openai/chat-completions', 'openai/models', 'anthropic/messages', 'gemini/models']) {
        const events = invokes.filter((e) => e.capability === capability)
        assert.ok(events.length > 0, `no capability.invoke for ${capability}`)
        for (const e of events) assert.match(String(e.clientIp), /^(::ffff:)?127\.0\.0\.1$/, `clientIp of ${JSON.stringify(e)}`)
      }
      assert.ok(chat.some((e) => e.status === 200), `a 200 chat-completions event: ${JSON.stringify(chat)}`)
      const mints = auditEvents(tv).filter((e) => e.kind === 'token.mint')
      for (const minted of [tOpenAI, tModels, tAnthropic, tGemini, tEmbed]) {
        assert.ok(mints.some((e) => JSON.stringify(e).includes(minted.id)), `no token.mint event names ${minted.id}`)
      }
      assertNoSecrets({audit: auditFilesText(tv)}, [...REAL_KEYS, ...allTokens])
    })

    it('only a hash is stored: no token appears anywhere under the temp base (vault, run/, keys, home)', () => {
      assertNoSecrets({'temp base': tv.allText()}, allTokens)
    })

    it('serve printed no token and no key', () => {
      assertNoSecrets({'serve output': serve.output()}, [...REAL_KEYS, ...allTokens])
    })

    it('across every upstream request of this suite, no proxy token ever left the broker', () => {
      assert.ok(up.requests.length >= 8, `only ${up.requests.length} upstream requests recorded`)
      assertNoSecrets(requestTexts(up.requests), allTokens)
      assert.ok(up.requests.every((r) => !/avp_/.test(r.path + JSON.stringify(r.headers) + r.body.toString('latin1'))), 'something avp_-like reached the upstream')
    })
  })
})

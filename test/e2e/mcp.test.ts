/**
 * End-to-end tests of `aivault mcp` and serve's /mcp (issue 17), driven by the MCP SDK's own
 * client: over stdio (the built CLI as a child process, in-process and through aivaultd) and
 * over streamable HTTP (a real `aivault serve` with proxy tokens). A local HTTPS upstream
 * stands in for the providers and echoes what reached it, the key included: no tool result
 * may carry it.
 */
import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StdioClientTransport} from '@modelcontextprotocol/sdk/client/stdio.js'
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import {McpError} from '@modelcontextprotocol/sdk/types.js'
import * as assert from 'node:assert/strict'
import {setTimeout as sleep} from 'node:timers/promises'

import {CLI, TempVault, assertNoSecrets, auditEvents, killDaemonsUnder} from './fixture'
import {mint, request, startServe, type Served} from './serve-helpers'
import {echo, reached, resolveEnv, sse, startUpstream, type Upstream} from './upstream'

const OPENAI_KEY = 'sk-mcp-e2e-OPENAI-SECRET-0123456789abcdef'
const GITHUB_KEY = 'ghp_mcpE2eGITHUBsecret0123456789abcdefXYZ'
const KEYS = [OPENAI_KEY, GITHUB_KEY]
const CLIENT_NAME = 'mcp-e2e-client'

type CallResult = {content: Array<{type: string; text?: string}>; structuredContent?: any; isError?: boolean}

async function connectStdio(env: NodeJS.ProcessEnv, args: string[] = []): Promise<{client: Client; stderr: () => string}> {
  const transport = new StdioClientTransport({command: process.execPath, args: [CLI, 'mcp', ...args], env: env as Record<string, string>, stderr: 'pipe'})
  let stderr = ''
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')))
  const client = new Client({name: CLIENT_NAME, version: '1.0.0'})
  await client.connect(transport)
  return {client, stderr: () => stderr}
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallResult> {
  return (await client.callTool({name, arguments: args})) as CallResult
}

/** The result as the agent reads it (all text, and the structured content), for "no key" checks. */
function resultText(result: CallResult): string {
  return JSON.stringify(result)
}

/** Audit events matching `pick`, waiting up to 4 s: long-lived processes write events in groups. */
async function eventsWhere(tv: TempVault, pick: (e: any) => boolean, until: (events: any[]) => boolean): Promise<any[]> {
  let events: any[] = []
  for (let i = 0; i < 40; i++) {
    events = auditEvents(tv).filter(pick)
    if (until(events)) break
    await sleep(100)
  }
  return events
}

/**
 * GET /v1/files answers an endless text body: a call can only answer if the server stops
 * reading at its cap. `stopped()` resolves once the upstream request has ended (fails after 5 s).
 */
function routeEndlessBody(up: Upstream): {stopped(): Promise<void>} {
  let ended = false
  up.route('GET', '/v1/files', async (_req, res, signal) => {
    res.writeHead(200, {'content-type': 'text/plain'})
    while (!signal.aborted) {
      if (res.write('x'.repeat(16384))) continue
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done).off('close', done)
          resolve()
        }
        res.on('drain', done).on('close', done)
      })
    }
    ended = true
  }, {host: 'api.openai.com'})
  return {
    async stopped() {
      for (let i = 0; i < 50 && !ended; i++) await sleep(100)
      assert.ok(ended, 'the upstream request was ended')
    },
  }
}

function assertCut(result: CallResult, cap: number): void {
  assert.ok(!result.isError, resultText(result).slice(0, 500))
  assert.equal(result.structuredContent.text, 'x'.repeat(cap))
  assert.equal(result.structuredContent.truncated.keptBytes, cap)
  assert.match(result.structuredContent.truncated.note, new RegExp(`cap of ${cap} bytes`))
}

async function expectProtocolError(promise: Promise<unknown>, code: number, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof McpError, `expected an McpError, got ${String(error)}`)
    assert.equal(error.code, code)
    assert.match(error.message, pattern)
    return true
  })
}

describe('e2e mcp: capabilities as MCP tools (stdio and HTTP)', function () {
  this.timeout(120_000)
  let up: Upstream
  let tv: TempVault
  let env: NodeJS.ProcessEnv

  before(async () => {
    up = await startUpstream()
    tv = new TempVault()
    env = {...tv.env, ...resolveEnv(up)}
    tv.ok(['init', '--testing'])
    tv.createSecret('OPENAI_API_KEY', OPENAI_KEY)
    tv.createSecret('GITHUB_TOKEN', GITHUB_KEY)
  })

  beforeEach(() => {
    up.reset()
    // Every route echoes the request, the injected key included: the broker must scrub it.
    up.route('GET', '/v1/models', echo(), {host: 'api.openai.com'})
    up.route('GET', '/user/repos', echo(), {host: 'api.github.com'})
  })

  after(async () => {
    await killDaemonsUnder(tv.base)
    await up.close()
    tv.dispose()
  })

  describe('over stdio', () => {
    let client: Client
    let stderr: () => string

    before(async () => {
      ;({client, stderr} = await connectStdio(env, ['--capability', 'openai/*', '--tool-per-capability', '--max-body-bytes', '4096']))
    })
    after(async () => client?.close())

    it('lists the generic tools and one tool per exposed ready capability', async () => {
      const {tools} = await client.listTools()
      const names = tools.map((t) => t.name)
      for (const generic of ['list_capabilities', 'describe_capability', 'invoke']) assert.ok(names.includes(generic), `${generic} in ${names}`)
      assert.ok(names.includes('openai_models'), `openai_models in ${names}`)
      assert.ok(names.includes('openai_chat-completions'), `openai_chat-completions in ${names}`)
      assert.ok(!names.some((n) => n.startsWith('github')), `no github tool: ${names}`)
      for (const name of names) assert.match(name, /^[A-Za-z0-9_-]{1,64}$/)
      const models = tools.find((t) => t.name === 'openai_models')!
      assert.deepEqual((models.inputSchema.properties as any).method.enum, ['GET'])
      assert.equal(models.annotations?.readOnlyHint, true)
    })

    it('list_capabilities shows only what --capability exposes, with descriptions', async () => {
      const result = await call(client, 'list_capabilities', {})
      assert.ok(!result.isError, resultText(result))
      const ids: string[] = result.structuredContent.capabilities.map((c: any) => c.id)
      assert.ok(ids.includes('openai/models'), String(ids))
      assert.ok(ids.every((id) => id.startsWith('openai/')), String(ids))
      const models = result.structuredContent.capabilities.find((c: any) => c.id === 'openai/models')
      assert.equal(typeof models.description, 'string')
      assert.deepEqual(JSON.parse(result.content[0].text!), result.structuredContent)
    })

    it('describe_capability answers for an exposed capability and refuses another', async () => {
      const described = await call(client, 'describe_capability', {capability: 'openai/models'})
      assert.ok(!described.isError, resultText(described))
      assert.deepEqual(described.structuredContent.methods, ['GET'])
      assert.deepEqual(described.structuredContent.exampleCall, {tool: 'invoke', arguments: {capability: 'openai/models', method: 'GET', path: '/v1/models'}})
      const refused = await call(client, 'describe_capability', {capability: 'github/repos'})
      assert.equal(refused.isError, true)
      assert.match(refused.content[0].text!, /github\/repos is not exposed/)
    })

    it('invoke reaches the upstream with the real key, and the result never holds it (even echoed)', async () => {
      const result = await call(client, 'invoke', {capability: 'openai/models', query: {limit: '2'}, headers: {'x-trace': 'mcp'}})
      assert.ok(!result.isError, resultText(result))
      assert.equal(result.structuredContent.status, 200)
      const echoed = result.structuredContent.json
      assert.equal(echoed.path, '/v1/models?limit=2')
      assert.equal(echoed.headers['x-trace'], 'mcp')
      const sent = reached(up, 'api.openai.com')
      assert.equal(sent.length, 1)
      assert.equal(sent[0].headers.authorization, `Bearer ${OPENAI_KEY}`)
      assertNoSecrets({'tool result': resultText(result), stderr: stderr()}, KEYS)
    })

    it('a capability tool calls its capability', async () => {
      const result = await call(client, 'openai_models', {path: '/v1/models/gpt-x'})
      assert.ok(!result.isError, resultText(result))
      assert.equal(result.structuredContent.capability, 'openai/models')
      assert.equal(result.structuredContent.json.path, '/v1/models/gpt-x')
      assertNoSecrets({'tool result': resultText(result)}, KEYS)
    })

    it('a capability outside --capability is a tool error, nothing is sent, and the server goes on', async () => {
      const result = await call(client, 'invoke', {capability: 'github/repos', path: '/user/repos'})
      assert.equal(result.isError, true)
      assert.match(result.content[0].text!, /policy_violation: github\/repos is not exposed by this MCP server/)
      assert.equal(reached(up, 'api.github.com').length, 0)
      assert.ok((await client.listTools()).tools.length > 3)
    })

    it("the broker's own refusals are tool errors that name the fix", async () => {
      const result = await call(client, 'invoke', {capability: 'openai/models', path: '/v1/files'})
      assert.equal(result.isError, true)
      assert.match(result.content[0].text!, /policy_violation: \/v1\/files is outside openai\/models/)
      const injected = await call(client, 'invoke', {capability: 'openai/models', headers: {authorization: 'Bearer sk-agent-supplied'}})
      assert.equal(injected.isError, true, resultText(injected))
      assert.equal(reached(up, 'api.openai.com').length, 0)
    })

    it('malformed calls are protocol errors (invalid params)', async () => {
      await expectProtocolError(call(client, 'no_such_tool', {}), -32602, /no tool "no_such_tool"/)
      await expectProtocolError(call(client, 'invoke', {}), -32602, /capability must be a non-empty string/)
      await expectProtocolError(call(client, 'invoke', {capability: 'openai/models', headers: {'x-n': 5}}), -32602, /header "x-n" must be a string/)
      await expectProtocolError(call(client, 'invoke', {capability: 'openai/models', url: 'https://evil.example'}), -32602, /unknown argument "url"/)
      await expectProtocolError(call(client, 'openai_models', {method: 'GET;'}), -32602, /method must be an HTTP method/)
      assert.ok((await client.listTools()).tools.length > 3, 'the server still answers')
    })

    it('an event stream comes back whole, as text', async () => {
      const pieces = ['Hel', 'lo, ', 'mcp']
      up.route('POST', '/v1/chat/completions', sse([...pieces.map((content) => ({choices: [{delta: {content}}]})), '[DONE]'], {delayMs: 30}), {host: 'api.openai.com'})
      const result = await call(client, 'invoke', {capability: 'openai/chat-completions', body: {model: 'gpt-e2e', stream: true, messages: []}})
      assert.ok(!result.isError, resultText(result))
      assert.match(result.structuredContent.headers['content-type'], /text\/event-stream/)
      const text: string = result.structuredContent.text
      for (const content of pieces) assert.ok(text.includes(JSON.stringify(content)), text)
      assert.ok(text.trimEnd().endsWith('data: [DONE]'), text)
      assert.equal(result.structuredContent.truncated, undefined)
      assert.equal(reached(up, 'api.openai.com')[0].headers['content-type'], 'application/json')
    })

    it('a body over the cap is cut at it, with a note, and the upstream stream is stopped', async () => {
      const endless = routeEndlessBody(up)
      const result = await call(client, 'invoke', {capability: 'openai/files', path: '/v1/files'})
      assertCut(result, 4096)
      await endless.stopped()
    })

    it('audits every call with the client name as consumer, refusals included', async () => {
      const events = auditEvents(tv).filter((e) => e.kind === 'capability.invoke')
      const ours = events.filter((e) => e.consumer === CLIENT_NAME)
      assert.ok(ours.some((e) => e.capability === 'openai/models' && e.status === 200), JSON.stringify(ours))
      assert.ok(ours.some((e) => e.capability === 'github/repos' && e.error === 'policy_violation'), 'the unexposed call is audited')
      assert.ok(ours.some((e) => e.error === 'invalid_request'), 'a malformed call is audited')
      assertNoSecrets({audit: JSON.stringify(events)}, KEYS)
    })
  })

  it('--consumer names the consumer instead of the client, and a bad pattern is a usage error', async () => {
    const {client} = await connectStdio(env, ['--consumer', 'research-agent'])
    try {
      const result = await call(client, 'invoke', {capability: 'github/repos', path: '/user/repos'})
      assert.ok(!result.isError, resultText(result))
      assert.equal(reached(up, 'api.github.com')[0].headers.authorization, `Bearer ${GITHUB_KEY}`)
      assertNoSecrets({'tool result': resultText(result)}, KEYS)
    } finally {
      await client.close()
    }
    const last = auditEvents(tv).filter((e) => e.kind === 'capability.invoke').at(-1)
    assert.equal(last.consumer, 'research-agent')
    const bad = tv.run(['mcp', '--capability', 'openai/(.*)'])
    assert.equal(bad.status, 2)
    assert.match(bad.stderr, /--capability "openai\/\(\.\*\)" is not a capability id or pattern/)
  })

  it('the full CLI serves the same tools when the fast path is off; a flag the fast path does not read goes there', async () => {
    const {client} = await connectStdio({...env, AIVAULT_FAST_PATH: '0'}, ['--capability', 'openai/models'])
    try {
      const result = await call(client, 'invoke', {capability: 'openai/models'})
      assert.ok(!result.isError, resultText(result))
      assertNoSecrets({'tool result': resultText(result)}, KEYS)
      assert.ok((await call(client, 'invoke', {capability: 'github/repos'})).isError)
    } finally {
      await client.close()
    }
    const refused = tv.run(['mcp', '--no-such-flag'])
    assert.equal(refused.status, 2, refused.stderr)
    assert.match(refused.stderr, /no-such-flag/)
  })

  it('through aivaultd, as invoke does', async () => {
    const daemonEnv = {...env, AIVAULTD_DISABLE: '0', AIVAULTD_IDLE_EXIT_MS: '60000'}
    const {client} = await connectStdio(daemonEnv, ['--capability', 'openai/models', '--capability', 'openai/files', '--max-body-bytes', '2048'])
    try {
      const endless = routeEndlessBody(up)
      assertCut(await call(client, 'invoke', {capability: 'openai/files', path: '/v1/files'}), 2048)
      await endless.stopped()
      const result = await call(client, 'invoke', {capability: 'openai/models'})
      assert.ok(!result.isError, resultText(result))
      assert.equal(reached(up, 'api.openai.com')[0].headers.authorization, `Bearer ${OPENAI_KEY}`)
      assertNoSecrets({'tool result': resultText(result)}, KEYS)
      const refused = await call(client, 'invoke', {capability: 'openai/models', path: '/v1/batches'})
      assert.equal(refused.isError, true)
      assert.match(refused.content[0].text!, /policy_violation: \/v1\/batches is outside openai\/models/)
    } finally {
      await client.close()
    }
    assert.ok((await killDaemonsUnder(tv.base)).length >= 1, 'the call went through a daemon')
  })

  describe('over HTTP (aivault serve /mcp)', () => {
    let serve: Served

    before(async () => {
      serve = await startServe(tv, resolveEnv(up) as Record<string, string>)
    })
    after(async () => serve?.stop())

    async function connectHttp(token: string, query = ''): Promise<Client> {
      const transport = new StreamableHTTPClientTransport(new URL(`${serve.base}/mcp${query}`), {requestInit: {headers: {authorization: `Bearer ${token}`}}})
      const client = new Client({name: CLIENT_NAME, version: '1.0.0'})
      await client.connect(transport)
      return client
    }

    it("the token's capabilities are the tools; calls carry the key upstream and never back", async () => {
      const minted = await mint(tv, ['openai/models', 'openai/files'], ['--consumer', 'http-agent'])
      const client = await connectHttp(minted.token, '?tools=per-capability')
      try {
        const names = (await client.listTools()).tools.map((t) => t.name)
        assert.deepEqual(names.filter((n) => n.startsWith('openai')), ['openai_files', 'openai_models'])
        const listed = await call(client, 'list_capabilities', {})
        assert.deepEqual(listed.structuredContent.capabilities.map((c: any) => c.id), ['openai/files', 'openai/models'])
        const result = await call(client, 'invoke', {capability: 'openai/models'})
        assert.ok(!result.isError, resultText(result))
        assert.equal(reached(up, 'api.openai.com')[0].headers.authorization, `Bearer ${OPENAI_KEY}`)
        assertNoSecrets({'tool result': resultText(result), serve: serve.output()}, [...KEYS, minted.token])
        const outside = await call(client, 'invoke', {capability: 'github/repos', path: '/user/repos'})
        assert.equal(outside.isError, true)
        assert.equal(reached(up, 'api.github.com').length, 0)
        await expectProtocolError(call(client, 'invoke', {capability: 'openai/models', body: 1, query: 'x'}), -32602, /query must be an object/)
        const endless = routeEndlessBody(up)
        assertCut(await call(client, 'invoke', {capability: 'openai/files', path: '/v1/files'}), 100_000)
        await endless.stopped()
      } finally {
        await client.close()
      }
      const events = await eventsWhere(tv, (e) => e.kind === 'capability.invoke' && e.consumer === 'http-agent', (found) => found.some((e) => e.status === 200))
      assert.ok(events.some((e) => e.capability === 'openai/models' && e.status === 200), JSON.stringify(events))
    })

    it('refuses a missing or wrong token before any MCP message, and answers malformed HTTP plainly', async () => {
      const headers = {'content-type': 'application/json', accept: 'application/json, text/event-stream'}
      const initialize = JSON.stringify({jsonrpc: '2.0', id: 1, method: 'initialize', params: {protocolVersion: '2025-06-18', capabilities: {}, clientInfo: {name: 'x', version: '1'}}})
      const none = await request(`${serve.base}/mcp`, {method: 'POST', headers, body: initialize})
      assert.equal(none.status, 401, none.body)
      const wrong = await request(`${serve.base}/mcp`, {method: 'POST', headers: {...headers, authorization: 'Bearer avp_not-a-real-token'}, body: initialize})
      assert.equal(wrong.status, 401, wrong.body)
      const minted = await mint(tv, ['openai/models'])
      const auth = {...headers, authorization: `Bearer ${minted.token}`}
      const garbage = await request(`${serve.base}/mcp`, {method: 'POST', headers: auth, body: '{not json'})
      assert.equal(garbage.status, 400)
      assert.equal(JSON.parse(garbage.body).error.code, -32700)
      const get = await request(`${serve.base}/mcp`, {headers: auth})
      assert.equal(get.status, 405)
      assert.equal(get.headers.allow, 'POST')
      assertNoSecrets({none: none.body, wrong: wrong.body, garbage: garbage.body}, [minted.token, ...KEYS])
      const denied = await eventsWhere(tv, (e) => e.kind === 'access.denied' && e.via === 'serve', (found) => found.length >= 2)
      assert.ok(denied.length >= 2, JSON.stringify(denied))
    })
  })
})

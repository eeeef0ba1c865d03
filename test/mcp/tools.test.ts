/**
 * The MCP server's own rules, without a process: which capabilities a pattern exposes, how a
 * tool call's arguments become an envelope, and tool names for capability ids.
 */
import * as assert from 'node:assert/strict'

import {mcpServerOptions, parseMcpArgs} from '../../src/cli/fast/mcp-flags'
import {ArgumentError, envelopeOf} from '../../src/mcp/call-arguments'
import {Exposure, parsePatterns} from '../../src/mcp/exposure'
import {consumerOfClient} from '../../src/mcp/mcp-server'
import {toolNames} from '../../src/mcp/tools'

describe('mcp: exposure patterns', () => {
  it('no pattern exposes everything; ids and globs expose what they match, nothing else', () => {
    assert.ok(parsePatterns(undefined).allows('stripe/charges'))
    const exposure = parsePatterns(['openai/*', 'github/repos'])
    assert.ok(exposure.allows('openai/models'))
    assert.ok(exposure.allows('openai/chat-completions'))
    assert.ok(exposure.allows('github/repos'))
    assert.ok(!exposure.allows('github/repos-extra'))
    assert.ok(!exposure.allows('github/issues'))
    assert.ok(!exposure.allows('xopenai/models'))
    assert.ok(parsePatterns(['*/models']).allows('gemini/models'))
  })

  it('a "." in a pattern is a character, not any character', () => {
    const exposure = parsePatterns(['acme.v1/*'])
    assert.ok(exposure.allows('acme.v1/x'))
    assert.ok(!exposure.allows('acmeXv1/x'))
  })

  it("a token's list exposes exactly its ids, and an empty one nothing", () => {
    assert.ok(Exposure.exactly(['openai/models']).allows('openai/models'))
    assert.ok(!Exposure.exactly(['openai/models']).allows('openai/files'))
    assert.ok(!Exposure.exactly([]).allows('openai/models'))
  })

  it('refuses patterns that are not capability ids with a usage error naming the flag', () => {
    for (const bad of ['openai/(.*)', '', '/x', 'a b', 'x'.repeat(201)]) {
      assert.throws(() => parsePatterns([bad]), (error: any) => error.exitCode === 2 && /--capability .* is not a capability id or pattern/.test(error.message), bad)
    }
  })
})

describe('mcp: call arguments', () => {
  it('builds the envelope: method upper-cased, query added to the path, headers as pairs', () => {
    const envelope = envelopeOf('github/repos', {method: 'get', path: '/user/repos?per_page=2', query: {sort: 'updated', topic: ['a b', 'c']}, headers: {'x-trace': '1'}})
    assert.deepEqual(envelope, {capability: 'github/repos', request: {method: 'GET', path: '/user/repos?per_page=2&sort=updated&topic=a%20b&topic=c', headers: [{name: 'x-trace', value: '1'}]}})
  })

  it('sends a non-string body as JSON with its content type, unless a header names one', () => {
    assert.deepEqual(envelopeOf('x/y', {body: {a: 1}}).request, {body: '{"a":1}', headers: [{name: 'content-type', value: 'application/json'}]})
    assert.deepEqual(envelopeOf('x/y', {body: [1], headers: {'Content-Type': 'application/vnd.api+json'}}).request, {body: '[1]', headers: [{name: 'Content-Type', value: 'application/vnd.api+json'}]})
    assert.deepEqual(envelopeOf('x/y', {body: 'raw'}).request, {body: 'raw'})
  })

  it('fills the defaults it is given, and a query without a path needs the one path', () => {
    assert.deepEqual(envelopeOf('x/y', {query: {q: '1'}}, {defaultPath: '/v1/search', defaultMethod: 'GET'}).request, {method: 'GET', path: '/v1/search?q=1'})
    assert.deepEqual(envelopeOf('x/y', {method: 'POST'}, {defaultMethod: 'GET'}).request, {method: 'POST'})
    assert.throws(() => envelopeOf('x/y', {query: {q: '1'}}), /allows several paths: pass path with the query/)
  })

  it('refuses malformed arguments, naming the one at fault', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{url: 'https://evil.example/'}, /unknown argument "url"/],
      [{method: 'GET /x'}, /method must be an HTTP method/],
      [{path: 5}, /path must be a string/],
      [{query: 'a=1'}, /query must be an object/],
      [{query: {a: {b: 1}}}, /query parameter "a" must be a string/],
      [{headers: ['x']}, /headers must be an object/],
      [{headers: {a: 1}}, /header "a" must be a string/],
      [{timeoutMs: 0}, /timeoutMs must be an integer from 1 to 600000/],
      [{timeoutMs: 1.5}, /timeoutMs must be an integer/],
    ]
    for (const [args, pattern] of cases) assert.throws(() => envelopeOf('x/y', args), (error: unknown) => error instanceof ArgumentError && pattern.test(error.message), JSON.stringify(args))
  })

  it('ignores the fields the caller has read already', () => {
    assert.deepEqual(envelopeOf('x/y', {capability: 'x/y'}, {skip: new Set(['capability'])}), {capability: 'x/y', request: {}})
  })
})

describe('mcp: tool names', () => {
  it('maps ids to names MCP clients accept, unique, never a generic tool name', () => {
    const names = toolNames(['openai/chat-completions', 'acme:v1/list', 'acme_v1/list', 'invoke', 'x/' + 'y'.repeat(100)])
    const byId = new Map([...names].map(([name, id]) => [id, name]))
    assert.equal(byId.get('openai/chat-completions'), 'openai_chat-completions')
    assert.equal(byId.get('acme:v1/list'), 'acme_v1_list')
    assert.equal(byId.get('acme_v1/list'), 'acme_v1_list_2')
    assert.equal(byId.get('invoke'), 'invoke_2')
    for (const name of names.keys()) assert.match(name, /^[A-Za-z0-9_-]{1,64}$/)
    assert.equal(names.size, 5)
  })
})

describe('mcp: consumer of a client', () => {
  it('keeps one printable line of at most 256 characters, else "mcp"', () => {
    assert.equal(consumerOfClient('Claude Code'), 'Claude Code')
    assert.equal(consumerOfClient('evil\nname\u0007'), 'evilname')
    assert.equal(consumerOfClient('x'.repeat(300)).length, 256)
    assert.equal(consumerOfClient(undefined), 'mcp')
    assert.equal(consumerOfClient('\n'), 'mcp')
  })
})

describe('mcp: the command line without oclif (mcp-flags.ts)', () => {
  it('reads what the full CLI reads, into the same options', () => {
    const flags = parseMcpArgs(['--capability', 'openai/*', '--capability=github/repos', '--tool-per-capability', '--workspace-id', 'team', '--consumer', 'agent one', '--max-body-bytes', '2048'])
    assert.deepEqual(flags, {capability: ['openai/*', 'github/repos'], 'tool-per-capability': true, 'workspace-id': 'team', consumer: 'agent one', 'max-body-bytes': 2048})
    const options = mcpServerOptions(flags!)
    assert.equal(options.maxBodyBytes, 2048)
    assert.equal(options.toolPerCapability, true)
    assert.deepEqual(options.context, {workspaceId: 'team', groupId: undefined, consumer: 'agent one'})
    assert.ok(options.exposure.allows('openai/models') && !options.exposure.allows('github/issues'))
    assert.deepEqual(parseMcpArgs([]), {})
  })

  it('leaves to the full CLI every line it would not take as is', () => {
    for (const line of [['--help'], ['-h'], ['--nope'], ['extra'], ['--consumer'], ['--consumer', '--tool-per-capability'], ['--consumer', 'a', '--consumer', 'b'], ['--max-body-bytes', '10'], ['--max-body-bytes', '1e5'], ['--max-body-bytes', String(65 << 20)], ['--tool-per-capability=yes']]) {
      assert.equal(parseMcpArgs(line), undefined, line.join(' '))
    }
  })

  it('refuses bad values with the usage errors of the full CLI', () => {
    assert.throws(() => mcpServerOptions({'group-id': 'g'}), /--group-id needs --workspace-id/)
    assert.throws(() => mcpServerOptions({'workspace-id': 'bad id'}), /--workspace-id "bad id" is not a valid workspace id/)
    assert.throws(() => mcpServerOptions({capability: ['(']}), /--capability "\(" is not a capability id or pattern/)
  })
})

/**
 * Issue 14, "What must hold" 1: linking the example plugin (plugins/aivault-plugin-example)
 * makes its provider, command and hooks work end to end against a local upstream, in-process,
 * through aivaultd and through serve; unlinking removes them.
 */
import * as assert from 'node:assert/strict'

import {TempVault, auditFilesText, daemonPidsUnder, parseJson} from './fixture'
import {EXAMPLE_PLUGIN, keysIn, link, pluginVault, startDaemon, stopDaemons, warnings} from './plugins-helpers'
import {type Call, type Outcome, leakedSpellings, viaCli, viaFrames, viaLibrary, viaServe} from './response-entry-points'
import {mint, startServe, type Served} from './serve-helpers'
import {UPSTREAM_HOSTNAMES, json, reached, resolveEnv, startUpstream, type Upstream} from './upstream'

const KEY = 'ex-plugin-e2e/SECRET+key=0123456789'
const PLUGIN = 'aivault-plugin-example'
const HOST = 'items.example.com'

const ITEMS = {
  items: [
    {id: 1, name: 'first', internalNotes: 'staff only 1'},
    {id: 2, name: 'second', nested: {internalNotes: 'staff only 2', keep: true}},
  ],
  internalNotes: 'top-level staff note',
}

describe('e2e plugins: the example plugin end to end (issue 14)', function () {
  this.timeout(300_000)
  let up: Upstream
  let tv: TempVault
  let env: Record<string, string>
  let socket: string
  let served: Served
  let token: string

  before(async () => {
    up = await startUpstream()
    env = resolveEnv(up, [...UPSTREAM_HOSTNAMES, HOST])
    tv = pluginVault()
    link(tv, EXAMPLE_PLUGIN)
    tv.createSecret('EXAMPLE_API_KEY', KEY)
    up.route('GET', '/v1/items', json(200, ITEMS))
    up.route('POST', '/v1/items', (req, res) => {
      res.writeHead(201, {'content-type': 'application/json'}).end(JSON.stringify({created: JSON.parse(req.body.toString('utf8')), internalNotes: 'new'}))
    })
    socket = await startDaemon(tv, env)
    served = await startServe(tv, env)
    token = (await mint(tv, ['example/items'])).token
  })

  after(async () => {
    await served?.stop()
    if (tv) await stopDaemons(tv, env)
    await up?.close()
    tv?.dispose()
  })

  /** One call through every entry point: the broker library, the CLI (in-process and aivaultd), raw frames, serve. */
  async function everywhere(call: Call): Promise<Array<[string, Outcome]>> {
    const all: Array<[string, Promise<Outcome>]> = [
      ['library', viaLibrary({...tv.env, ...env}, call)],
      ['cli in-process', viaCli(tv, env, call, 'in-process')],
      ['cli via aivaultd', viaCli(tv, {...env, AIVAULTD_AUTOSTART: '0'}, call, 'daemon')],
      ['aivaultd execute', viaFrames(socket, {...call, stream: false})],
      ['aivaultd execute_stream', viaFrames(socket, {...call, stream: true})],
      ['serve envelope', viaServe(served, token, call)],
      ['serve passthrough', viaServe(served, token, call, 'example')],
    ]
    const results: Array<[string, Outcome]> = []
    for (const [where, outcome] of all) results.push([where, await outcome])
    for (const [where, outcome] of results) assert.deepEqual(leakedSpellings(outcome.text, KEY), [], `${where} leaked the key: ${outcome.text}`)
    return results
  }

  it('plugins list --json shows the plugin, its provider and hooks', () => {
    const result = tv.run(['plugins', 'list', '--json'])
    assert.equal(result.status, 0, result.stderr)
    assert.deepEqual(warnings(result.stderr), [])
    const {plugins} = parseJson<{plugins: any[]}>(result)
    assert.equal(plugins.length, 1)
    const [plugin] = plugins
    assert.equal(plugin.name, PLUGIN)
    assert.equal(plugin.type, 'link')
    assert.equal(plugin.root, EXAMPLE_PLUGIN)
    assert.deepEqual(plugin.providers, ['example'])
    assert.deepEqual(plugin.hooks.sort(), ['aivault:after-invoke', 'aivault:before-invoke'])
    assert.deepEqual(plugin.refused, [])
  })

  it('providers list, capability list and capability describe show the plugin provider', () => {
    const providers = tv.json(['providers', 'list']).providers as any[]
    const example = providers.find((p) => p.provider === 'example')
    assert.ok(example, 'providers list lacks example')
    assert.deepEqual(example.secrets, ['EXAMPLE_API_KEY'])
    assert.deepEqual(example.hosts, [HOST])
    assert.equal(example.plugin, PLUGIN)
    assert.match(tv.ok(['providers', 'list']), /^example \(aivault-plugin-example\) +EXAMPLE_API_KEY /m)
    const shown = tv.json(['providers', 'show', 'example'])
    assert.deepEqual([shown.provider, shown.plugin], ['example', PLUGIN])
    const listed = tv.json(['capability', 'list'])
    assert.deepEqual(listed.ready.filter((c: any) => c.provider === 'example'), [{id: 'example/items', provider: 'example', credential: 'example', plugin: PLUGIN}])
    assert.match(tv.ok(['capability', 'list']), /example\/items +\(credential example, plugin aivault-plugin-example\)/)
    const described = tv.json(['capability', 'describe', 'example/items'])
    assert.equal(described.id, 'example/items')
    assert.equal(described.provider, 'example')
    assert.deepEqual(described.methods, ['GET', 'POST'])
    assert.deepEqual(described.hosts, [HOST])
    assert.equal(described.plugin, PLUGIN)
    assert.match(tv.ok(['capability', 'describe', 'example/items']), /^Provider: +example, from plugin aivault-plugin-example /m)
  })

  it('the plugin command runs (human and --json)', () => {
    assert.equal(tv.ok(['example', 'hello', '--name', 'x']), 'Hello from aivault-plugin-example, x.\n')
    assert.deepEqual(tv.json(['example', 'hello', '--name', 'y']), {greeted: 'y'})
  })

  it('GET example/items: the before-invoke header and the bearer reach the upstream, internalNotes never reaches the caller', async () => {
    up.requests.length = 0
    const results = await everywhere({capability: 'example/items', method: 'GET', path: '/v1/items'})
    for (const [where, outcome] of results) {
      assert.equal(outcome.error, undefined, `${where}: ${outcome.text}`)
      if (outcome.status !== undefined) assert.equal(outcome.status, 200, where)
      const body = JSON.parse(outcome.body)
      assert.deepEqual(keysIn(body).filter((k) => k === 'internalNotes'), [], `${where} got internalNotes: ${outcome.body}`)
      assert.deepEqual(body, {items: [{id: 1, name: 'first'}, {id: 2, name: 'second', nested: {keep: true}}]}, where)
    }
    const seen = reached(up, HOST)
    assert.equal(seen.length, results.length, 'one upstream request per call')
    for (const req of seen) {
      assert.equal(req.headers['x-example-client'], 'aivault-plugin-example (example/items)')
      assert.equal(req.headers.authorization, `Bearer ${KEY}`)
      assert.equal(req.pathname, '/v1/items')
    }
  })

  it('POST with a body goes through; its answer is redacted too', async () => {
    up.requests.length = 0
    const results = await everywhere({capability: 'example/items', method: 'POST', path: '/v1/items', body: '{"name":"third"}'})
    for (const [where, outcome] of results) {
      assert.equal(outcome.error, undefined, `${where}: ${outcome.text}`)
      assert.deepEqual(JSON.parse(outcome.body), {created: {name: 'third'}}, where)
    }
    assert.equal(reached(up, HOST).length, results.length)
    for (const req of reached(up, HOST)) assert.equal(req.headers['x-example-client'], 'aivault-plugin-example (example/items)')
  })

  it('POST with an empty body is refused with the hook\'s message and never reaches the upstream', async () => {
    up.requests.length = 0
    const results = await everywhere({capability: 'example/items', method: 'POST', path: '/v1/items'})
    for (const [where, outcome] of results) {
      assert.ok(outcome.error, `${where} was not refused: ${outcome.text}`)
      assert.match(outcome.error.message, /example\/items needs a JSON body for POST/, where)
      assert.match(outcome.error.message, /aivault-plugin-example/, `${where} does not name the plugin`)
      if (outcome.error.code !== 'cli') assert.equal(outcome.error.code, 'policy_violation', where)
      if (outcome.status !== undefined) assert.equal(outcome.status, 403, where)
    }
    assert.deepEqual(reached(up, HOST), [])
    const human = await tv.runAsync(['invoke', 'example/items', '--method', 'POST', '--path', '/v1/items'], {env: {...env, AIVAULTD_DISABLE: '1'}})
    assert.notEqual(human.status, 0)
    assert.match(human.stderr, /^Error: .*example\/items needs a JSON body for POST/m)
  })

  it('the key is in no audit line', () => {
    assert.deepEqual(leakedSpellings(auditFilesText(tv), KEY), [])
  })

  it('plugins uninstall removes the provider, the command and the hooks', async () => {
    const removed = await tv.runAsync(['plugins', 'uninstall', PLUGIN], {env})
    assert.equal(removed.status, 0, removed.stdout + removed.stderr)
    assert.match(removed.stdout, /Removed plugin aivault-plugin-example/)
    // aivaultd loaded the plugin at start: uninstall stops it so the next invoke starts a fresh one.
    assert.match(removed.stdout, /Stopped aivaultd/)
    assert.deepEqual(daemonPidsUnder(tv.base), [])

    assert.deepEqual(tv.json(['plugins', 'list']), {plugins: []})
    const hello = tv.run(['example', 'hello'])
    assert.notEqual(hello.status, 0)
    assert.match(hello.stderr, /^Error: "example( hello)?" is not an aivault command/)
    const providers = tv.json(['providers', 'list']).providers as any[]
    assert.equal(providers.find((p) => p.provider === 'example'), undefined)
    const described = tv.run(['capability', 'describe', 'example/items', '--json'])
    assert.equal(described.status, 1)
    assert.equal(parseJson(described).error.code, 'capability_not_found')

    const call: Call = {capability: 'example/items', method: 'GET', path: '/v1/items'}
    const library = await viaLibrary({...tv.env, ...env}, call)
    assert.equal(library.error?.code, 'capability_not_found', library.text)
    // Through a freshly started aivaultd (autostart) and in-process.
    for (const extra of [{AIVAULTD_AUTOSTART: '1'}, {AIVAULTD_DISABLE: '1'}]) {
      const cli = await tv.runAsync(['invoke', 'example/items', '--path', '/v1/items', '--json'], {env: {...env, ...extra}})
      assert.equal(cli.status, 1, cli.stdout + cli.stderr)
      assert.equal(parseJson(cli).error.code, 'capability_not_found', JSON.stringify(extra))
    }
    // A fresh serve does not know it either.
    const fresh = await startServe(tv, env)
    try {
      const answer = await viaServe(fresh, token, call)
      assert.ok(answer.error, answer.text)
    } finally {
      await fresh.stop()
    }
  })
})

/**
 * The hook runner: hooks load once (CommonJS or ESM), run in plugin order within a timeout, and
 * a throwing or hanging hook fails the call with an error naming the plugin instead of taking
 * the process down; a provider hook runs only for a trusted, unchanged plugin.
 */
import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {AivaultError} from '../../src/errors'
import {PluginHooks} from '../../src/plugins/hook-runner'
import type {BeforeInvokePayload} from '../../src/plugins/hooks'
import {readPluginPackage} from '../../src/plugins/installed'
import {trustPlugin} from '../../src/plugins/trust'

function payload(): BeforeInvokePayload {
  return {
    request: {method: 'GET', path: '/v1', query: [], headers: [], body: Buffer.alloc(0)},
    capability: {id: 'acme/things', provider: 'acme', transport: 'http'},
    credential: {id: 'acme', provider: 'acme'},
    invocation: {workspaceId: null, groupId: null, consumer: null, clientIp: null},
  }
}

describe('plugins/hook-runner', () => {
  let base: string
  let env: NodeJS.ProcessEnv
  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-hooks-'))
    env = {AIVAULT_DATA_DIR: path.join(base, 'data'), AIVAULT_PLUGIN_HOOK_TIMEOUT_MS: '300'}
  })
  afterEach(() => fs.rmSync(base, {recursive: true, force: true}))

  function plugin(name: string, hooks: Record<string, string>, type: 'commonjs' | 'module' = 'commonjs') {
    const root = path.join(base, name)
    fs.mkdirSync(path.join(root, 'hooks'), {recursive: true})
    const declared: Record<string, string> = {}
    for (const [event, source] of Object.entries(hooks)) {
      const file = `./hooks/${event.replace('aivault:', '')}.js`
      fs.writeFileSync(path.join(root, file), source)
      declared[event] = file
    }
    fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({name, version: '1.0.0', type, oclif: {hooks: declared}}))
    return readPluginPackage(root, 'link')!
  }

  it('runs before-invoke hooks in plugin order, CommonJS and ESM alike', async () => {
    const a = plugin('a', {'aivault:before-invoke': "module.exports = async (p) => { p.request.headers.push({name: 'x-a', value: '1'}) }\n"})
    const b = plugin('b', {'aivault:before-invoke': "export default async function (p) { p.request.headers.push({name: 'x-b', value: String(p.request.headers.length)}) }\n"}, 'module')
    const hooks = new PluginHooks([a, b], env)
    assert.equal(hooks.has('aivault:before-invoke'), true)
    assert.equal(hooks.has('aivault:after-invoke'), false)
    const p = payload()
    await hooks.beforeInvoke(p)
    assert.deepEqual(p.request.headers, [{name: 'x-a', value: '1'}, {name: 'x-b', value: '1'}])
  })

  it('turns a throwing hook into a refusal naming the plugin', async () => {
    const hooks = new PluginHooks([plugin('a', {'aivault:before-invoke': "module.exports = () => { throw new Error('no writes on Fridays') }\n"})], env)
    await assert.rejects(hooks.beforeInvoke(payload()), (e: AivaultError) => e.code === 'policy_violation' && e.message === "plugin a's aivault:before-invoke hook refused the request: no writes on Fridays")
  })

  it('fails a hanging hook within the timeout, and keeps working afterwards', async () => {
    const hooks = new PluginHooks([plugin('a', {'aivault:after-invoke': 'module.exports = () => new Promise(() => {})\n'})], env)
    const started = Date.now()
    const p = {response: {status: 200, headers: [], body: Buffer.from('{}')}, capability: payload().capability}
    await assert.rejects(hooks.afterInvoke(p), (e: AivaultError) => e.code === 'upstream_timeout' && /did not finish within 300 ms/.test(e.message))
    assert.ok(Date.now() - started < 5000)
    await assert.rejects(hooks.afterInvoke(p), (e: AivaultError) => e.code === 'upstream_timeout')
  })

  it('reports a hook module that exports no function', async () => {
    const hooks = new PluginHooks([plugin('a', {'aivault:before-invoke': 'module.exports = 42\n'})], env)
    await assert.rejects(hooks.beforeInvoke(payload()), (e: AivaultError) => e.code === 'policy_violation' && /could not be loaded: .*exports no function/.test(e.message))
  })

  it('runs a provider hook only for a trusted, unchanged plugin', async () => {
    const source = "module.exports = async (p) => ({status: 200, json: {got: Object.keys(p.secrets), timeoutMs: p.timeoutMs, aborted: p.signal.aborted}})\n"
    const p = plugin('db', {'aivault:provider': source})
    const hooks = new PluginHooks([p], env)
    const call = () =>
      hooks.provide('db', {...payload(), capability: {id: 'db/query', provider: 'db', transport: 'plugin'}, credential: {id: 'db', provider: 'db', hosts: ['db']}, secrets: {secret: 's3cr3t'}, timeoutMs: 1000}, new AbortController().signal)
    await assert.rejects(call(), (e: AivaultError) => e.code === 'plugin_untrusted')
    trustPlugin(p, env)
    assert.deepEqual(await call(), {status: 200, json: {got: ['secret'], timeoutMs: 1000, aborted: false}})
    fs.appendFileSync(path.join(p.root, 'hooks', 'provider.js'), '// edited\n')
    await assert.rejects(call(), (e: AivaultError) => e.code === 'plugin_untrusted')
  })

  it('refuses a provider result that is not {status, json|body}', async () => {
    const p = plugin('db', {'aivault:provider': "module.exports = async () => ({status: 'ok'})\n"})
    trustPlugin(p, env)
    const hooks = new PluginHooks([p], env)
    await assert.rejects(
      hooks.provide('db', {...payload(), credential: {id: 'db', provider: 'db', hosts: []}, secrets: {}, timeoutMs: 1000}, new AbortController().signal),
      (e: AivaultError) => e.code === 'upstream_unreachable' && /returned no valid response/.test(e.message),
    )
  })
})

/**
 * Issue 14, "What must hold" 3 and the provider hook: a `transport: plugin` capability is
 * answered by its plugin's `aivault:provider` hook only while the plugin is trusted and
 * unchanged (`plugin_untrusted` otherwise, also in an aivaultd and a serve started before the
 * edit); the hook's answer reaches the caller on every entry point, a throwing hook's message
 * too, and the decrypted secret it receives never reaches any caller, error or audit line.
 */
import * as assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {TempVault, auditFilesText, daemonPidsUnder, parseJson} from './fixture'
import {copyFixture, link, pluginVault, startDaemon, stopDaemons} from './plugins-helpers'
import {type Call, type Outcome, leakedSpellings, viaCli, viaFrames, viaLibrary, viaServe} from './response-entry-points'
import {mint, startServe, type Served} from './serve-helpers'

const SECRET = 'hooked-e2e/SECRET+token=0123456789'
const PLUGIN = 'aivault-test-provider'
const ECHO: Call = {capability: 'hooked/run', method: 'POST', path: '/v1/echo?color=blue', body: 'hello hook'}

describe('e2e plugins: provider hooks and trust (issue 14)', function () {
  this.timeout(300_000)
  let tv: TempVault
  let pluginDir: string
  let socket: string
  let daemonPid: number
  let served: Served
  let token: string

  before(async () => {
    tv = pluginVault()
    pluginDir = copyFixture(tv, 'provider')
    link(tv, pluginDir)
    const created = tv.ok(['secrets', 'create', '--name', 'HOOKED_TOKEN', '--value-stdin'], {input: SECRET})
    assert.match(created, /Credential auto-provisioned: hooked/)
    socket = await startDaemon(tv, {})
    ;[daemonPid] = daemonPidsUnder(tv.base)
    served = await startServe(tv, {})
    token = (await mint(tv, ['hooked/run'])).token
  })

  after(async () => {
    await served?.stop()
    if (tv) await stopDaemons(tv, {})
    tv?.dispose()
  })

  /** The call through every entry point; none may show the secret in any spelling. */
  async function everywhere(call: Call): Promise<Array<[string, Outcome]>> {
    const all: Array<[string, Promise<Outcome>]> = [
      ['library', viaLibrary({...tv.env}, call)],
      ['cli in-process', viaCli(tv, {}, call, 'in-process')],
      ['cli via aivaultd', viaCli(tv, {AIVAULTD_AUTOSTART: '0'}, call, 'daemon')],
      ['aivaultd execute', viaFrames(socket, {...call, stream: false})],
      ['aivaultd execute_stream', viaFrames(socket, {...call, stream: true})],
      ['serve envelope', viaServe(served, token, call)],
      ['serve passthrough', viaServe(served, token, call, 'hooked')],
    ]
    const results: Array<[string, Outcome]> = []
    for (const [where, outcome] of all) results.push([where, await outcome])
    for (const [where, outcome] of results) assert.deepEqual(leakedSpellings(outcome.text, SECRET), [], `${where} leaked the secret: ${outcome.text}`)
    // The same aivaultd served them all: a refusal or a failing hook never takes it down.
    assert.deepEqual(daemonPidsUnder(tv.base), [daemonPid])
    return results
  }

  /** Every entry point refused with plugin_untrusted, the hint (where the caller sees one) naming `plugins trust`. */
  async function assertUntrusted(reason: RegExp): Promise<void> {
    for (const [where, outcome] of await everywhere(ECHO)) {
      assert.ok(outcome.error, `${where} was not refused: ${outcome.text}`)
      assert.match(outcome.error.message, new RegExp(`plugin ${PLUGIN} is not trusted to receive secrets`), where)
      assert.match(outcome.error.message, reason, where)
      if (outcome.error.code === 'cli') assert.match(outcome.error.message, /^Hint: .*aivault plugins trust aivault-test-provider$/m, where)
      else assert.equal(outcome.error.code, 'plugin_untrusted', where)
      if (where === 'library') assert.match(outcome.error.message, /aivault plugins trust aivault-test-provider/)
    }
    const json = tv.run(['invoke', 'hooked/run', '--method', 'GET', '--path', '/v1/echo', '--json'])
    assert.equal(json.status, 1)
    const error = parseJson(json).error
    assert.equal(error.code, 'plugin_untrusted')
    assert.equal(error.hint, 'review it, then run: aivault plugins trust aivault-test-provider')
  }

  /** Every entry point got the hook's echo. */
  async function assertServed(): Promise<void> {
    for (const [where, outcome] of await everywhere(ECHO)) {
      assert.equal(outcome.error, undefined, `${where}: ${outcome.text}`)
      if (outcome.status !== undefined) assert.equal(outcome.status, 200, where)
      const answer = JSON.parse(outcome.body)
      assert.deepEqual(answer.request, {method: 'POST', path: '/v1/echo', query: [['color', 'blue']], headers: answer.request.headers, body: 'hello hook'}, where)
      assert.deepEqual(answer.capability, {id: 'hooked/run', provider: 'hooked', transport: 'plugin'}, where)
      assert.deepEqual(answer.credential, {id: 'hooked', provider: 'hooked', hosts: ['hooked.example.com']}, where)
      assert.deepEqual(Object.keys(answer.invocation).sort(), ['clientIp', 'consumer', 'groupId', 'workspaceId'], where)
      // It was given the secret (by placeholder), and its careless echo of it was scrubbed.
      assert.deepEqual(answer.secretNames, ['token'], where)
      assert.equal(answer.secretLength, SECRET.length, where)
      assert.match(answer.leak, /^tok=/, where)
      assert.equal(answer.signalAborted, false, where)
      assert.equal(typeof answer.timeoutMs, 'number', where)
      if (outcome.headers.length > 0) assert.ok(outcome.headers.some(([n, v]) => n === 'x-hooked' && v === 'yes'), `${where}: ${JSON.stringify(outcome.headers)}`)
    }
  }

  it('capability describe says the plugin serves it', () => {
    const described = tv.json(['capability', 'describe', 'hooked/run'])
    assert.deepEqual([described.plugin, described.transport], [PLUGIN, 'plugin'])
    assert.match(tv.ok(['capability', 'describe', 'hooked/run']), /^Transport: +plugin /m)
  })

  it('untrusted, the provider hook never runs: plugin_untrusted, the hint names plugins trust', async () => {
    assert.deepEqual(tv.json(['plugins', 'list']).plugins[0].trust, {trusted: false, reason: 'not trusted'})
    await assertUntrusted(/not trusted\)/)
  })

  it('after plugins trust, its answer reaches the caller in-process, through aivaultd and serve', async () => {
    const trusted = tv.run(['plugins', 'trust', PLUGIN, '--json'])
    assert.equal(trusted.status, 0, trusted.stderr)
    assert.match(parseJson(trusted).trusted.digest, /^[0-9a-f]{64}$/)
    assert.deepEqual(tv.json(['plugins', 'list']).plugins[0].trust, {trusted: true})
    await assertServed()
  })

  it('the envelope timeout reaches the hook as timeoutMs', async () => {
    const answer = JSON.parse((await viaLibrary({...tv.env}, {...ECHO, timeoutMs: 4321})).body)
    assert.equal(answer.timeoutMs, 4321)
  })

  it('a hook that throws fails the call with its message, the secret scrubbed out', async () => {
    for (const [where, outcome] of await everywhere({capability: 'hooked/run', method: 'GET', path: '/v1/throw'})) {
      assert.ok(outcome.error, `${where} did not fail: ${outcome.text}`)
      assert.match(outcome.error.message, /plugin aivault-test-provider's aivault:provider hook failed: the server refused token /, where)
      if (outcome.error.code !== 'cli') assert.equal(outcome.error.code, 'upstream_unreachable', where)
    }
  })

  it('editing a file of the trusted plugin makes it plugin_untrusted, also in the aivaultd and serve started before', async () => {
    fs.appendFileSync(path.join(pluginDir, 'hooks', 'provider.js'), '// reviewed? not since this line\n')
    await assertUntrusted(/its files changed since it was trusted/)
    assert.deepEqual(tv.json(['plugins', 'list']).plugins[0].trust, {trusted: false, reason: 'its files changed since it was trusted'})
  })

  it('a new file in the plugin folder counts as a change too', async () => {
    tv.ok(['plugins', 'trust', PLUGIN])
    await assertServed()
    fs.writeFileSync(path.join(pluginDir, 'hooks', 'extra.js'), 'module.exports = 1\n')
    await assertUntrusted(/its files changed since it was trusted/)
    fs.rmSync(path.join(pluginDir, 'hooks', 'extra.js'))
  })

  it('plugins trust again makes it work again', async () => {
    tv.ok(['plugins', 'trust', PLUGIN])
    await assertServed()
  })

  it('plugins untrust refuses it again', async () => {
    const untrusted = tv.json(['plugins', 'untrust', PLUGIN])
    assert.deepEqual(untrusted, {untrusted: PLUGIN, wasTrusted: true})
    await assertUntrusted(/not trusted\)/)
  })

  it('the secret is in no audit line and in no file outside the vault\'s sealed records', () => {
    assert.deepEqual(leakedSpellings(auditFilesText(tv), SECRET), [])
    assert.deepEqual(leakedSpellings(fs.readFileSync(path.join(tv.base, 'data', 'trusted-plugins.json'), 'utf8'), SECRET), [])
    assert.deepEqual(leakedSpellings(tv.allText(), SECRET), [])
  })
})

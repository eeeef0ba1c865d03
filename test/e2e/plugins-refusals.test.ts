/**
 * Issue 14, "What must hold" 2 and the provider rules: a plugin that claims OPENAI_API_KEY or
 * reuses provider id `openai` is refused (and, forced in, not loaded: every command warns once
 * per refusal, `plugins list` says why, the built-in provider keeps working); two plugins that
 * claim one secret name are both refused, each naming the other; an invalid provider YAML is
 * refused naming the file and the JSON pointer; a command shadowing a core one is refused
 * unless --force, and the core command keeps running.
 */
import * as assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {TempVault, expectHumanError, parseJson} from './fixture'
import {fixture, pluginVault, startDaemon, stopDaemons, warnings} from './plugins-helpers'
import {resolveEnv, startUpstream, type Upstream} from './upstream'

const OPENAI = 'sk-plugins-refusal-e2e-SECRET-0123456789'
const CLAIMS = 'aivault-test-claims-openai'
const REUSES = 'aivault-test-reuses-openai'

/** The plugins the data directory's package.json lists (what plugin-plugins keeps). */
function keptPlugins(tv: TempVault): string[] {
  const file = path.join(tv.base, 'data', 'package.json')
  if (!fs.existsSync(file)) return []
  return (JSON.parse(fs.readFileSync(file, 'utf8')).oclif?.plugins ?? []).map((p: {name: string}) => p.name)
}

describe('e2e plugins: provider rules and refusals (issue 14)', function () {
  this.timeout(300_000)
  let up: Upstream
  let env: Record<string, string>

  before(async () => {
    up = await startUpstream()
    env = resolveEnv(up)
  })

  after(async () => {
    await up?.close()
  })

  describe('a plugin claiming OPENAI_API_KEY or reusing provider id openai', () => {
    let tv: TempVault

    before(() => {
      tv = pluginVault()
    })

    after(async () => {
      if (tv) await stopDaemons(tv, env)
      tv?.dispose()
    })

    it('is refused at link with a clear message, and nothing is kept', () => {
      const claims = expectHumanError(tv.run(['plugins', 'link', fixture('claims-openai')]), 1)
      assert.match(claims, /aivault-test-claims-openai/)
      assert.match(claims, /secret OPENAI_API_KEY is claimed by the built-in provider "openai"/)
      const reuses = tv.run(['plugins', 'link', fixture('reuses-openai'), '--json'])
      assert.equal(reuses.status, 1)
      const error = parseJson(reuses).error
      assert.equal(error.code, 'conflict')
      assert.match(error.message, /aivault-test-reuses-openai refused: provider "openai": provider id "openai" is a built-in provider/)
      assert.match(error.hint, /--force/)
      assert.deepEqual(keptPlugins(tv), [])
      assert.deepEqual(tv.json(['plugins', 'list']), {plugins: []})
    })

    it('with --force is linked but its provider is not loaded', () => {
      for (const name of ['claims-openai', 'reuses-openai']) {
        const forced = tv.run(['plugins', 'link', fixture(name), '--force'])
        assert.equal(forced.status, 0, forced.stdout + forced.stderr)
        assert.match(forced.stdout, /forced: provider "(notopenai|openai)": /)
      }
      assert.deepEqual(keptPlugins(tv).sort(), [CLAIMS, REUSES])
      const providers = tv.json(['providers', 'list']).providers as any[]
      assert.equal(providers.find((p) => p.provider === 'notopenai'), undefined)
      const openai = tv.json(['providers', 'show', 'openai'])
      assert.ok(!openai.hosts.includes('sneaky.example.com'), `a plugin added a host to openai: ${openai.hosts}`)
      const sneaky = tv.run(['capability', 'describe', 'openai/sneaky', '--json'])
      assert.equal(parseJson(sneaky).error.code, 'capability_not_found')
    })

    it('every command prints one Warning line per refused provider, naming the plugin and the rule', () => {
      const commands = [['status'], ['providers', 'list'], ['capability', 'list'], ['secrets', 'list', '--json'], ['plugins', 'list', '--json'], ['doctor', '--json']]
      for (const args of commands) {
        const result = tv.run(args)
        const lines = warnings(result.stderr)
        assert.equal(lines.length, 2, `${args.join(' ')}: ${result.stderr}`)
        assert.match(lines.find((l) => l.includes(CLAIMS)) ?? '', /provider "notopenai" refused: secret OPENAI_API_KEY is claimed by the built-in provider "openai"/, args.join(' '))
        assert.match(lines.find((l) => l.includes(REUSES)) ?? '', /provider "openai" refused: provider id "openai" is a built-in provider/, args.join(' '))
        // Warnings stay on stderr: --json output is still one value.
        if (args.includes('--json')) parseJson(result)
      }
    })

    it('plugins list shows the reasons', () => {
      const {plugins} = tv.json(['plugins', 'list'])
      const byName = Object.fromEntries(plugins.map((p: any) => [p.name, p]))
      assert.deepEqual(byName[CLAIMS].providers, [])
      assert.deepEqual(byName[CLAIMS].refused, [{provider: 'notopenai', reason: 'secret OPENAI_API_KEY is claimed by the built-in provider "openai"'}])
      assert.deepEqual(byName[REUSES].refused, [{provider: 'openai', reason: 'provider id "openai" is a built-in provider'}])
      const human = tv.ok(['plugins', 'list'])
      assert.match(human, /refused: aivault-test-claims-openai provider "notopenai": secret OPENAI_API_KEY is claimed/)
      assert.match(human, /refused: aivault-test-reuses-openai provider "openai": provider id "openai" is a built-in provider/)
    })

    it('the built-in openai provider keeps working (in-process and through aivaultd)', async () => {
      const created = tv.run(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin', '--json'], {input: OPENAI})
      assert.equal(created.status, 0, created.stderr)
      const credentials = tv.json(['credential', 'list']).credentials as any[]
      assert.deepEqual(credentials.map((c) => [c.id, c.provider, c.hosts]), [['openai', 'openai', ['api.openai.com']]])
      const run = async (extra: Record<string, string>) => {
        up.requests.length = 0
        const result = await tv.runAsync(['invoke', 'openai/models', '--path', '/v1/models', '--json'], {env: {...env, ...extra}})
        assert.equal(result.status, 0, result.stdout + result.stderr)
        assert.equal(up.requests.length, 1)
        assert.equal(up.requests[0].servername, 'api.openai.com')
        assert.equal(up.requests[0].headers.authorization, `Bearer ${OPENAI}`)
        assert.ok(!(result.stdout + result.stderr).includes(OPENAI))
        assert.equal(warnings(result.stderr).length, 2, `invoke warns too: ${result.stderr}`)
      }
      await run({AIVAULTD_DISABLE: '1'})
      await startDaemon(tv, env)
      await run({AIVAULTD_AUTOSTART: '0'})
      // The warm-daemon fast path (no --json: the thin client, no oclif, no plugin code) names them too, from aivaultd.
      const thin = await tv.runAsync(['invoke', 'openai/models', '--path', '/v1/models'], {env: {...env, AIVAULTD_AUTOSTART: '0'}})
      assert.equal(thin.status, 0, thin.stderr)
      assert.equal(warnings(thin.stderr).length, 2, `the thin client warns too: ${thin.stderr}`)
    })
  })

  describe('two plugins claiming the same secret name', () => {
    let tv: TempVault

    before(() => {
      tv = pluginVault()
    })

    after(() => tv?.dispose())

    it('the second is refused at link, naming the first', () => {
      tv.ok(['plugins', 'link', fixture('rival-a')])
      assert.deepEqual(tv.json(['plugins', 'list']).plugins[0].providers, ['rivala'])
      const message = expectHumanError(tv.run(['plugins', 'link', fixture('rival-b')]), 1)
      assert.match(message, /plugin aivault-test-rival-b refused: provider "rivalb": secret RIVAL_SHARED_KEY is also claimed by plugin aivault-test-rival-a/)
      assert.deepEqual(keptPlugins(tv), ['aivault-test-rival-a'])
    })

    it('forced in, both are refused for that name, each naming the other', () => {
      tv.ok(['plugins', 'link', fixture('rival-b'), '--force'])
      const result = tv.run(['plugins', 'list', '--json'])
      const {plugins} = parseJson(result)
      const byName = Object.fromEntries(plugins.map((p: any) => [p.name, p]))
      assert.deepEqual(byName['aivault-test-rival-a'].providers, [])
      assert.deepEqual(byName['aivault-test-rival-b'].providers, [])
      assert.match(byName['aivault-test-rival-a'].refused[0].reason, /secret RIVAL_SHARED_KEY is also claimed by plugin aivault-test-rival-b: both are refused/)
      assert.match(byName['aivault-test-rival-b'].refused[0].reason, /secret RIVAL_SHARED_KEY is also claimed by plugin aivault-test-rival-a: both are refused/)
      const lines = warnings(result.stderr)
      assert.equal(lines.length, 2, result.stderr)
      assert.ok(lines.some((l) => /plugin aivault-test-rival-a: .*claimed by plugin aivault-test-rival-b/.test(l)), result.stderr)
      assert.ok(lines.some((l) => /plugin aivault-test-rival-b: .*claimed by plugin aivault-test-rival-a/.test(l)), result.stderr)
      const providers = (tv.json(['providers', 'list']).providers as any[]).map((p) => p.provider)
      assert.ok(!providers.includes('rivala') && !providers.includes('rivalb'), providers.join(' '))
      // Nobody owns the name: the secret is an ordinary one, with no credential made for it.
      const created = tv.json(['secrets', 'create', '--name', 'RIVAL_SHARED_KEY', '--value-stdin'], {input: 'rival-secret-value'})
      assert.ok(created.secret)
      assert.deepEqual(tv.json(['credential', 'list']).credentials, [])
    })

    it('removing one lets the other load again, without warnings', () => {
      tv.ok(['plugins', 'uninstall', 'aivault-test-rival-b'])
      const result = tv.run(['plugins', 'list', '--json'])
      assert.deepEqual(warnings(result.stderr), [])
      assert.deepEqual(parseJson(result).plugins.map((p: any) => [p.name, p.providers, p.refused]), [['aivault-test-rival-a', ['rivala'], []]])
    })
  })

  describe('an invalid provider YAML', () => {
    let tv: TempVault

    before(() => {
      tv = pluginVault()
    })

    after(() => tv?.dispose())

    it('is refused naming the file and the JSON pointer, and nothing is linked (--force neither)', () => {
      for (const extra of [[], ['--force']]) {
        const message = expectHumanError(tv.run(['plugins', 'link', fixture('invalid'), ...extra]), 1)
        assert.match(message, /aivault-test-invalid\/registry\/broken\.yaml: \/capabilities\/0\/allow\/methods\/0: must be one of GET/, extra.join(' '))
        assert.deepEqual(keptPlugins(tv), [])
      }
      const result = tv.run(['plugins', 'list', '--json'])
      assert.deepEqual(parseJson(result), {plugins: []})
      assert.deepEqual(warnings(result.stderr), [])
      const providers = (tv.json(['providers', 'list']).providers as any[]).map((p) => p.provider)
      assert.ok(!providers.includes('broken'))
    })
  })

  describe('a plugin command shadowing a core command', () => {
    let tv: TempVault

    before(() => {
      tv = pluginVault()
    })

    after(() => tv?.dispose())

    it('is refused without --force', () => {
      const message = expectHumanError(tv.run(['plugins', 'link', fixture('shadow')]), 1)
      assert.match(message, /plugin aivault-test-shadow would shadow aivault's own command status/)
      assert.deepEqual(keptPlugins(tv), [])
    })

    it('with --force is linked, and the core command still runs', () => {
      const forced = tv.run(['plugins', 'link', fixture('shadow'), '--force'])
      assert.equal(forced.status, 0, forced.stdout + forced.stderr)
      assert.match(forced.stdout, /forced: command "status" stays aivault's own/)
      assert.deepEqual(keptPlugins(tv), ['aivault-test-shadow'])
      const status = tv.run(['status'])
      assert.equal(status.status, 0, status.stderr)
      assert.doesNotMatch(status.stdout, /SHADOWED/)
      assert.match(status.stdout, /^Vault: /m)
      const json = tv.json(['status'])
      assert.equal(typeof json, 'object')
    })
  })
})

/**
 * Issue 14 part 1: an ES module plugin (command and before-invoke hook) works when linked, and
 * a plugin installs offline from a packed tarball and from a local folder with npm lifecycle
 * scripts disabled (the fixture's preinstall/install/postinstall/prepare would leave markers).
 */
import * as assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {TempVault, parseJson} from './fixture'
import {copyFixture, fixture, link, pluginVault, startDaemon, stopDaemons, warnings} from './plugins-helpers'
import {viaLibrary} from './response-entry-points'
import {resolveEnv, startUpstream, type Upstream} from './upstream'

const OPENAI = 'sk-plugins-install-e2e-SECRET-0123456789'

describe('e2e plugins: ESM plugins and offline installs (issue 14)', function () {
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

  /** `aivault invoke openai/models` and the headers the upstream received for it. */
  async function invokeOpenai(tv: TempVault, extra: Record<string, string>): Promise<Record<string, string>> {
    up.requests.length = 0
    const result = await tv.runAsync(['invoke', 'openai/models', '--path', '/v1/models', '--json'], {env: {...env, ...extra}})
    assert.equal(result.status, 0, result.stdout + result.stderr)
    assert.equal(up.requests.length, 1)
    assert.equal(up.requests[0].headers.authorization, `Bearer ${OPENAI}`)
    return up.requests[0].headers
  }

  describe('an ES module plugin ("type": "module")', () => {
    let tv: TempVault

    before(() => {
      tv = pluginVault()
      tv.createSecret('OPENAI_API_KEY', OPENAI)
      link(tv, fixture('esm'))
    })

    after(async () => {
      if (tv) await stopDaemons(tv, env)
      tv?.dispose()
    })

    it('plugins list shows it with its hook', () => {
      const {plugins} = tv.json(['plugins', 'list'])
      assert.deepEqual(plugins.map((p: any) => [p.name, p.type, p.hooks]), [['aivault-test-esm', 'link', ['aivault:before-invoke']]])
    })

    it('its ESM command runs', () => {
      const result = tv.run(['esm', 'hello', '--name', 'bob'])
      assert.equal(result.status, 0, result.stderr)
      assert.equal(result.stdout, 'esm says hello to bob (string)\n')
      // No warning at all: oclif's "linked ESM module cannot be auto-transpiled" is off with auto-transpiling.
      assert.equal(result.stderr, '')
      assert.deepEqual(warnings(tv.run(['status']).stderr), [])
    })

    it('a package without an "oclif" section is refused with what to add', () => {
      const bare = path.join(tv.base, 'bare-plugin')
      fs.mkdirSync(bare, {recursive: true})
      fs.writeFileSync(path.join(bare, 'package.json'), JSON.stringify({name: 'aivault-test-bare', version: '1.0.0'}))
      const result = tv.run(['plugins', 'link', bare])
      assert.equal(result.status, 1)
      assert.match(result.stderr, /^Error: aivault-test-bare is not an oclif plugin\nHint: .*"oclif": \{\}/)
      assert.deepEqual(tv.json(['plugins', 'list']).plugins.map((p: any) => p.name), ['aivault-test-esm'])
    })

    it('its ESM before-invoke hook runs in-process, in the broker library and in aivaultd', async () => {
      const inProcess = await invokeOpenai(tv, {AIVAULTD_DISABLE: '1'})
      assert.equal(inProcess['x-esm-hook'], 'openai/models via string')

      up.requests.length = 0
      const library = await viaLibrary({...tv.env, ...env}, {capability: 'openai/models', method: 'GET', path: '/v1/models'})
      assert.equal(library.error, undefined, library.text)
      assert.equal(up.requests[0].headers['x-esm-hook'], 'openai/models via string')

      await startDaemon(tv, env)
      const daemon = await invokeOpenai(tv, {AIVAULTD_AUTOSTART: '0'})
      assert.equal(daemon['x-esm-hook'], 'openai/models via string')
    })
  })

  describe('offline installs (no registry, no lifecycle scripts)', () => {
    let tv: TempVault
    /** npm settings that make any registry access fail: offline, a private cache, an unreachable registry. */
    let npmEnv: Record<string, string>

    beforeEach(() => {
      tv = pluginVault()
      tv.createSecret('OPENAI_API_KEY', OPENAI)
      npmEnv = {npm_config_offline: 'true', npm_config_cache: path.join(tv.base, 'npm-cache'), npm_config_registry: 'http://127.0.0.1:9/', npm_config_update_notifier: 'false'}
    })

    afterEach(() => tv?.dispose())

    /** Marker files a lifecycle script would have written (they write to $HOME). */
    function lifecycleMarkers(): string[] {
      const found: string[] = []
      const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, {withFileTypes: true})) {
          if (entry.isDirectory()) walk(path.join(dir, entry.name))
          else if (entry.name.startsWith('lifecycle-')) found.push(path.relative(tv.base, path.join(dir, entry.name)))
        }
      }
      walk(tv.base)
      return found
    }

    /** The installed plugin's command, hook, listing and uninstall all work. */
    async function assertInstalledWorks(): Promise<void> {
      const root = path.join(tv.base, 'data', 'node_modules', 'aivault-test-offline')
      assert.ok(fs.existsSync(path.join(root, 'package.json')), 'not installed under the data directory')
      const {plugins} = tv.json(['plugins', 'list'])
      assert.deepEqual(plugins.map((p: any) => [p.name, p.type, p.root, p.hooks]), [['aivault-test-offline', 'user', root, ['aivault:before-invoke']]])

      const hello = tv.run(['offline', 'hello'])
      assert.equal(hello.status, 0, hello.stderr)
      assert.equal(hello.stdout, 'offline plugin says hello \n')
      assert.equal((await invokeOpenai(tv, {AIVAULTD_DISABLE: '1'}))['x-offline-hook'], 'openai/models')
      assert.deepEqual(lifecycleMarkers(), [], 'a lifecycle script ran')

      const removed = tv.run(['plugins', 'uninstall', 'aivault-test-offline', '--json'], {env: npmEnv})
      assert.equal(removed.status, 0, removed.stdout + removed.stderr)
      assert.equal(fs.existsSync(root), false)
      assert.equal((await invokeOpenai(tv, {AIVAULTD_DISABLE: '1'}))['x-offline-hook'], undefined)
    }

    /** `npm pack` of a fixture into <base>/<into>/, optionally renamed; the tarball's path. */
    function pack(name: string, into: string, renamed?: string): string {
      const packDir = path.join(tv.base, into)
      fs.mkdirSync(packDir, {recursive: true})
      const packed = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir, fixture(name)], {
        env: {...process.env, ...npmEnv, HOME: tv.home},
        cwd: tv.base,
        encoding: 'utf8',
      })
      assert.equal(packed.status, 0, packed.stdout + packed.stderr)
      const tarball = path.join(packDir, JSON.parse(packed.stdout)[0].filename)
      assert.ok(fs.existsSync(tarball))
      if (!renamed) return tarball
      fs.renameSync(tarball, path.join(packDir, renamed))
      return path.join(packDir, renamed)
    }

    it('from a packed tarball', async () => {
      const tarball = pack('offline', 'packed')

      const result = tv.run(['plugins', 'install', tarball, '--json'], {env: npmEnv})
      assert.equal(result.status, 0, result.stdout + result.stderr)
      const {plugin} = parseJson(result)
      assert.deepEqual([plugin.name, plugin.type, plugin.commands, plugin.hooks], ['aivault-test-offline', 'user', ['offline hello'], ['aivault:before-invoke']])
      await assertInstalledWorks()
    })

    it('from a local folder', async () => {
      const folder = copyFixture(tv, 'offline')
      const result = tv.run(['plugins', 'install', folder], {env: npmEnv})
      assert.equal(result.status, 0, result.stdout + result.stderr)
      assert.match(result.stdout, /^Installed plugin aivault-test-offline 1\.0\.0/)
      // Installed as a copy: the source folder is not what runs.
      assert.notEqual(fs.realpathSync(path.join(tv.base, 'data', 'node_modules', 'aivault-test-offline')), folder)
      await assertInstalledWorks()
    })

    /** The data directory's npm dependencies (what npm keeps installed). */
    function dependencies(): string[] {
      return Object.keys(JSON.parse(fs.readFileSync(path.join(tv.base, 'data', 'package.json'), 'utf8')).dependencies ?? {})
    }

    /**
     * Installs the offline fixture (a command) then the provider fixture (a provider) from these
     * sources, and checks both are listed, usable and removed one by one. plugin-plugins 5.5.2
     * named the second after the first: every folder spec matched the first folder dependency,
     * and tarballs matched by file name.
     */
    function assertTwoInstalls(offline: string, provider: string): void {
      for (const [source, name] of [[offline, 'aivault-test-offline'], [provider, 'aivault-test-provider']]) {
        const result = tv.run(['plugins', 'install', source, '--json'], {env: npmEnv})
        assert.equal(result.status, 0, result.stdout + result.stderr)
        assert.equal(parseJson(result).plugin.name, name)
      }
      const root = (name: string) => path.join(tv.base, 'data', 'node_modules', name)
      const listed = () => tv.json(['plugins', 'list']).plugins.map((p: any) => [p.name, p.root, p.providers])
      const hooked = () => (tv.json(['providers', 'list']).providers as any[]).find((p) => p.provider === 'hooked')?.plugin
      assert.deepEqual(listed(), [['aivault-test-offline', root('aivault-test-offline'), []], ['aivault-test-provider', root('aivault-test-provider'), ['hooked']]])
      assert.equal(tv.ok(['offline', 'hello']), 'offline plugin says hello \n')
      assert.equal(hooked(), 'aivault-test-provider')

      const first = tv.run(['plugins', 'uninstall', 'aivault-test-provider', '--json'], {env: npmEnv})
      assert.equal(first.status, 0, first.stdout + first.stderr)
      assert.deepEqual(listed(), [['aivault-test-offline', root('aivault-test-offline'), []]])
      assert.equal(hooked(), undefined)
      assert.equal(tv.ok(['offline', 'hello']), 'offline plugin says hello \n')
      assert.deepEqual(dependencies(), ['aivault-test-offline'])

      const second = tv.run(['plugins', 'uninstall', 'aivault-test-offline', '--json'], {env: npmEnv})
      assert.equal(second.status, 0, second.stdout + second.stderr)
      assert.deepEqual(tv.json(['plugins', 'list']), {plugins: []})
      assert.notEqual(tv.run(['offline', 'hello']).status, 0)
      assert.deepEqual(dependencies(), [])
      assert.deepEqual(fs.readdirSync(path.join(tv.base, 'data', 'node_modules')).filter((f) => !f.startsWith('.')), [])
      assert.deepEqual(lifecycleMarkers(), [], 'a lifecycle script ran')
    }

    it('two folders in a row, each under its own name', () => {
      assertTwoInstalls(copyFixture(tv, 'offline'), copyFixture(tv, 'provider'))
    })

    it('two tarballs of the same file name in a row, each under its own name', () => {
      assertTwoInstalls(pack('offline', 'a', 'plugin.tgz'), pack('provider', 'b', 'plugin.tgz'))
    })

    it('a refused folder is not left installed to be mistaken for the next one', async () => {
      const bare = path.join(tv.base, 'bare-plugin')
      fs.mkdirSync(bare)
      fs.writeFileSync(path.join(bare, 'package.json'), JSON.stringify({name: 'aivault-test-bare', version: '1.0.0'}))
      const refused = tv.run(['plugins', 'install', bare], {env: npmEnv})
      assert.equal(refused.status, 1)
      assert.match(refused.stderr, /^Error: .*bare-plugin is not an oclif plugin\nHint: .*"oclif": \{\}/)
      assert.deepEqual(dependencies(), [])

      const result = tv.run(['plugins', 'install', copyFixture(tv, 'offline')], {env: npmEnv})
      assert.equal(result.status, 0, result.stdout + result.stderr)
      await assertInstalledWorks()
    })
  })
})

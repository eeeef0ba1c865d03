/**
 * Plugin trust (SPEC §13): a digest of the plugin's files, checked cheaply before each provider
 * hook; any change to a file's content, a new file or a removed one makes the plugin untrusted.
 */
import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {AivaultError} from '../../src/errors'
import {readPluginPackage} from '../../src/plugins/installed'
import {assertTrusted, trustPlugin, trustState, untrustPlugin} from '../../src/plugins/trust'

describe('plugins/trust', () => {
  let base: string
  let env: NodeJS.ProcessEnv
  let root: string

  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-trust-'))
    env = {AIVAULT_DATA_DIR: path.join(base, 'data')}
    root = path.join(base, 'plugin')
    fs.mkdirSync(path.join(root, 'hooks'), {recursive: true})
    fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({name: 'p', version: '1.0.0', oclif: {hooks: {'aivault:provider': './hooks/provider.js'}}}))
    fs.writeFileSync(path.join(root, 'hooks', 'provider.js'), 'module.exports = async () => ({status: 200, json: {}})\n')
  })
  afterEach(() => fs.rmSync(base, {recursive: true, force: true}))

  const plugin = () => readPluginPackage(root, 'link')!

  it('is untrusted until trusted, then trusted while the files are unchanged', () => {
    assert.deepEqual(trustState(plugin(), env), {trusted: false, reason: 'not trusted'})
    const record = trustPlugin(plugin(), env)
    assert.match(record.digest, /^[0-9a-f]{64}$/)
    assert.deepEqual(trustState(plugin(), env), {trusted: true, digest: record.digest})
    assert.equal(fs.statSync(path.join(base, 'data', 'trusted-plugins.json')).mode & 0o777, 0o600)
  })

  for (const [what, change] of [
    ['an edited hook', (r: string) => fs.appendFileSync(path.join(r, 'hooks', 'provider.js'), '// changed\n')],
    ['a new file', (r: string) => fs.writeFileSync(path.join(r, 'hooks', 'extra.js'), 'x')],
    ['a removed file', (r: string) => fs.rmSync(path.join(r, 'hooks', 'provider.js'))],
    ['a file turned into a symbolic link', (r: string) => {
      fs.rmSync(path.join(r, 'hooks', 'provider.js'))
      fs.symlinkSync('/etc/hostname', path.join(r, 'hooks', 'provider.js'))
    }],
  ] as const) {
    it(`refuses after ${what}, until trusted again`, () => {
      trustPlugin(plugin(), env)
      change(root)
      const state = trustState(plugin(), env)
      assert.equal(state.trusted, false)
      assert.throws(() => assertTrusted(plugin(), env), (e: AivaultError) => e.code === 'plugin_untrusted' && /plugins trust p/.test(e.hint ?? ''))
      trustPlugin(plugin(), env)
      assert.equal(trustState(plugin(), env).trusted, true)
    })
  }

  it('keeps trusting a file that was touched but not changed (content decides, not time)', () => {
    trustPlugin(plugin(), env)
    const file = path.join(root, 'hooks', 'provider.js')
    fs.writeFileSync(file, fs.readFileSync(file))
    assert.equal(trustState(plugin(), env).trusted, true)
  })

  it('refuses a plugin that moved to another folder under the same name', () => {
    trustPlugin(plugin(), env)
    const moved = path.join(base, 'moved')
    fs.renameSync(root, moved)
    const state = trustState(readPluginPackage(moved, 'link')!, env)
    assert.equal(state.trusted, false)
  })

  it('untrust forgets it; untrusting an unknown plugin says so', () => {
    trustPlugin(plugin(), env)
    assert.equal(untrustPlugin('p', env), true)
    assert.equal(trustState(plugin(), env).trusted, false)
    assert.equal(untrustPlugin('p', env), false)
  })
})

/**
 * Plugin providers (SPEC §13): validated with the build's standalone schema validator and the
 * registry rules, and refused (not loaded) when they reuse a built-in provider id or secret
 * name, or when two plugins claim the same id or name (both refused, each naming the other).
 */
import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {readPluginPackage} from '../../src/plugins/installed'
import {compilePlugin, mergePluginProviders, pluginProviders} from '../../src/plugins/plugin-registry'
import {loadBuiltinRegistry} from '../../src/registry/registry'

const providerYaml = (id: string, secret: string, extra = '') => `provider: ${id}
vaultSecrets:
  ${secret}: secret
auth:
  header:
    header_name: authorization
    value_template: Bearer {{secret}}
hosts: [api.${id}.example.com]
capabilities:
  - id: ${id}/things
    provider: ${id}
    allow: {hosts: [api.${id}.example.com], methods: [GET], pathPrefixes: [/v1]}
${extra}`

describe('plugins/plugin-registry', () => {
  let base: string
  beforeEach(() => (base = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-plugin-registry-'))))
  afterEach(() => fs.rmSync(base, {recursive: true, force: true}))

  function plugin(name: string, files: Record<string, string>, pjson: Record<string, unknown> = {aivault: {registry: './registry'}}) {
    const root = path.join(base, name)
    fs.mkdirSync(path.join(root, 'registry'), {recursive: true})
    fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({name, version: '1.0.0', ...pjson}))
    for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(root, 'registry', file), text)
    return readPluginPackage(root, 'link')!
  }

  it('loads a valid provider and marks it with its plugin', () => {
    const compiled = compilePlugin(plugin('p1', {'acme.yaml': providerYaml('acme', 'ACME_KEY')}))
    const merged = mergePluginProviders([compiled], loadBuiltinRegistry())
    assert.deepEqual(merged.refusals, [])
    assert.equal(merged.providers[0].provider, 'acme')
    assert.equal(merged.providers[0].plugin, 'p1')
  })

  it('names the file and the JSON pointer of a schema error', () => {
    const bad = providerYaml('acme', 'ACME_KEY').replace('methods: [GET]', 'methods: [FETCH]')
    const compiled = compilePlugin(plugin('p1', {'acme.yaml': bad}))
    assert.match(compiled.refusal ?? '', /p1\/registry\/acme\.yaml: \/capabilities\/0\/allow\/methods\/0: /)
  })

  it('applies the registry rules (the provider is defined in <provider>.yaml)', () => {
    const compiled = compilePlugin(plugin('p1', {'other.yaml': providerYaml('acme', 'ACME_KEY')}))
    assert.match(compiled.refusal ?? '', /must be defined in acme\.yaml/)
  })

  it('refuses a built-in provider id and a built-in secret name, keeping the rest', () => {
    const compiled = compilePlugin(plugin('p1', {'openai.yaml': providerYaml('openai', 'MY_OPENAI'), 'acme.yaml': providerYaml('acme', 'OPENAI_API_KEY'), 'fine.yaml': providerYaml('fine', 'FINE_KEY')}))
    const merged = mergePluginProviders([compiled], loadBuiltinRegistry())
    assert.deepEqual(merged.providers.map((p) => p.provider), ['fine'])
    assert.deepEqual(merged.refusals.map((r) => [r.provider, r.reason]).sort(), [
      ['acme', 'secret OPENAI_API_KEY is claimed by the built-in provider "openai"'],
      ['openai', 'provider id "openai" is a built-in provider'],
    ])
  })

  it('refuses a secret name two plugins claim, for both, each naming the other', () => {
    const a = compilePlugin(plugin('pa', {'alpha.yaml': providerYaml('alpha', 'SHARED_KEY')}))
    const b = compilePlugin(plugin('pb', {'beta.yaml': providerYaml('beta', 'SHARED_KEY')}))
    const merged = mergePluginProviders([a, b], loadBuiltinRegistry())
    assert.deepEqual(merged.providers, [])
    assert.deepEqual(merged.refusals.map((r) => `${r.plugin}: ${r.reason}`), [
      'pa: secret SHARED_KEY is also claimed by plugin pb: both are refused',
      'pb: secret SHARED_KEY is also claimed by plugin pa: both are refused',
    ])
  })

  it('refuses a plugin that points its registry outside its folder', () => {
    const p = plugin('p1', {}, {aivault: {registry: '../../elsewhere'}})
    assert.match(compilePlugin(p).refusal ?? '', /outside its folder/)
  })

  it('reuses the cached result until a file it read changes', () => {
    const env = {AIVAULT_DATA_DIR: path.join(base, 'data')}
    const p = plugin('p1', {'acme.yaml': providerYaml('acme', 'ACME_KEY')})
    assert.equal(pluginProviders([p], () => loadBuiltinRegistry(), env).providers[0].title, undefined)
    const cache = path.join(base, 'data', 'cache', 'plugin-registry.json')
    assert.ok(fs.existsSync(cache))
    fs.writeFileSync(path.join(p.root, 'registry', 'acme.yaml'), providerYaml('acme', 'ACME_KEY', 'title: Acme\n'))
    assert.equal(pluginProviders([p], () => loadBuiltinRegistry(), env).providers[0].title, 'Acme')
  })
})

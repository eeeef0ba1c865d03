import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {AivaultError} from '../../src/errors'
import {runRegistryBuild} from '../../src/registry/build'
import {BUILTIN_REGISTRY_DIR, loadBuiltinRegistry, Registry, verifyBuiltinRegistry} from '../../src/registry/registry'
import {ProviderDef} from '../../src/registry/types'
import {copyBuiltinRegistry, removeTempDirs, ROOT, tempDir} from './helpers'

function provider(id: string, secrets: Record<string, string>, extra: Partial<ProviderDef> = {}): ProviderDef {
  return {
    provider: id,
    vaultSecrets: secrets,
    auth: {header: {header_name: 'authorization', value_template: 'Bearer {{secret}}'}},
    hosts: [`api.${id}.example.com`],
    capabilities: [{id: `${id}/read`, provider: id, allow: {hosts: [`api.${id}.example.com`], methods: ['GET'], pathPrefixes: ['/']}}],
    ...extra,
  }
}

/** Builds `registryDir` into a temp out dir; returns the path of its registry.json. */
function build(registryDir?: string): string {
  const out = tempDir()
  const errors: string[] = []
  const args = registryDir ? ['--registry', registryDir, '--out', out] : ['--out', out]
  assert.equal(runRegistryBuild(ROOT, args, {out: () => {}, err: (l) => errors.push(l)}), 0, errors.join('\n'))
  return path.join(out, 'registry.json')
}

function tampered(fn: () => void): AivaultError {
  try {
    fn()
  } catch (error) {
    assert.ok(error instanceof AivaultError, String(error))
    assert.equal(error.code, 'vault_tampered')
    assert.equal(error.hint, 'reinstall aivault or run npm run build')
    return error
  }
  assert.fail('expected vault_tampered')
}

describe('registry: Registry', () => {
  after(removeTempDirs)

  it('looks up providers, claims and capabilities', () => {
    const registry = new Registry([
      provider('zeta', {ZETA_KEY: 'secret'}),
      provider('alpha', {ALPHA_ID: 'client_id', ALPHA_SECRET: 'secret'}, {
        auth: {multi_header: [{header_name: 'x-id', value_template: '{{client_id}}'}, {header_name: 'x-secret', value_template: '{{secret}}'}]},
      }),
    ])
    assert.deepEqual(registry.providers().map((p) => p.provider), ['alpha', 'zeta'])
    assert.equal(registry.provider('zeta')?.provider, 'zeta')
    assert.equal(registry.provider('nope'), undefined)
    assert.deepEqual(registry.claimFor('ALPHA_SECRET'), {provider: 'alpha', placeholder: 'secret'})
    assert.deepEqual(registry.claimFor('ZETA_KEY'), {provider: 'zeta', placeholder: 'secret'})
    assert.equal(registry.claimFor('zeta_key'), undefined)
    assert.equal(registry.claimFor('UNKNOWN'), undefined)
    assert.equal(registry.capability('alpha/read')?.provider, 'alpha')
    assert.equal(registry.capability('alpha/write'), undefined)
    assert.deepEqual(registry.capabilitiesOf('zeta').map((c) => c.id), ['zeta/read'])
    assert.deepEqual(registry.capabilitiesOf('nope'), [])
  })

  it('includes credential alternatives in claims and capabilities', () => {
    const registry = new Registry([
      provider('acme', {ACME_KEY: 'secret'}, {
        credentialAlternatives: [{
          id: 'eu',
          vaultSecrets: {ACME_KEY: 'secret', ACME_EU_REGION_KEY: 'region'},
          auth: {header: {header_name: 'x-key', value_template: '{{secret}}'}},
          hosts: ['api.eu.acme.example.com'],
          capabilities: [
            {id: 'acme/read', provider: 'acme', allow: {hosts: ['api.eu.acme.example.com'], methods: ['GET'], pathPrefixes: ['/']}},
            {id: 'acme/eu-only', provider: 'acme', allow: {hosts: ['api.eu.acme.example.com'], methods: ['GET'], pathPrefixes: ['/eu']}},
          ],
        }],
      }),
    ])
    assert.deepEqual(registry.claimFor('ACME_KEY'), {provider: 'acme', placeholder: 'secret'})
    assert.deepEqual(registry.claimFor('ACME_EU_REGION_KEY'), {provider: 'acme', placeholder: 'region', alternative: 'eu'})
    assert.deepEqual(registry.capabilitiesOf('acme').map((c) => c.id), ['acme/read', 'acme/eu-only'])
    // The main definition wins for an id both define.
    assert.deepEqual(registry.capability('acme/read')?.allow.hosts, ['api.acme.example.com'])
  })

  it('refuses duplicate providers and secrets claimed by two providers', () => {
    assert.throws(() => new Registry([provider('a', {A: 'secret'}), provider('a', {B: 'secret'})]), {code: 'conflict', message: /provider a is defined twice/})
    assert.throws(() => new Registry([provider('a', {SHARED: 'secret'}), provider('b', {SHARED: 'secret'})]), {
      code: 'conflict',
      message: /secret SHARED is claimed by both a and b/,
    })
  })

  it('hands out frozen definitions', () => {
    const registry = new Registry([provider('a', {A: 'secret'})])
    const def = registry.provider('a')
    assert.ok(def)
    assert.throws(() => def.hosts.push('evil.example.com'), TypeError)
    assert.equal(Reflect.set(def.capabilities[0].allow, 'pathPrefixes', ['/']), false)
    assert.equal(Reflect.set(def.auth, 'header', {header_name: 'x', value_template: 'y'}), false)
    assert.deepEqual(registry.provider('a')?.hosts, ['api.a.example.com'])
  })
})

describe('registry: built-in registry', () => {
  after(removeTempDirs)

  it('loads dist/registry.json once per process', () => {
    const file = build()
    const registry = loadBuiltinRegistry(file)
    assert.equal(loadBuiltinRegistry(file), registry)
    assert.equal(registry.providers().length, fs.readdirSync(BUILTIN_REGISTRY_DIR).filter((n) => n.endsWith('.yaml')).length)
    assert.deepEqual(registry.claimFor('OPENAI_API_KEY'), {provider: 'openai', placeholder: 'secret'})
    assert.deepEqual(registry.claimFor('TWILIO_AUTH_TOKEN'), {provider: 'twilio', placeholder: 'password'})
    assert.deepEqual(registry.capability('openai/chat-completions')?.allow, {
      hosts: ['api.openai.com'],
      methods: ['GET', 'POST', 'DELETE'],
      pathPrefixes: ['/v1/chat/completions'],
    })
    assert.equal(registry.capabilitiesOf('openai').length, 20)
    assert.match(registry.digest ?? '', /^[0-9a-f]{64}$/)
  })

  it('reports a missing or unreadable registry.json as vault_tampered', () => {
    const dir = tempDir()
    assert.match(tampered(() => loadBuiltinRegistry(path.join(dir, 'registry.json'))).message, /built-in registry missing/)
    fs.writeFileSync(path.join(dir, 'bad.json'), '{"providers": 3}')
    assert.match(tampered(() => loadBuiltinRegistry(path.join(dir, 'bad.json'))).message, /built-in registry unreadable/)
  })

  it('verifies an unchanged copy of the registry', () => {
    const registryDir = copyBuiltinRegistry()
    const registryJson = build(registryDir)
    assert.doesNotThrow(() => verifyBuiltinRegistry({registryDir, registryJson}))
    // The real registry/ matches a build of itself.
    assert.doesNotThrow(() => verifyBuiltinRegistry({registryJson: build()}))
  })

  it('detects a modified, added or removed file and names it', () => {
    const registryDir = copyBuiltinRegistry()
    const registryJson = build(registryDir)
    const openai = path.join(registryDir, 'openai.yaml')
    const original = fs.readFileSync(openai)

    fs.writeFileSync(openai, original.toString('utf8').replace('pathPrefixes: [/v1/embeddings]', "pathPrefixes: ['/']"))
    assert.equal(
      tampered(() => verifyBuiltinRegistry({registryDir, registryJson})).message,
      'built-in registry modified: registry/openai.yaml (changed)',
    )
    // One extra byte is enough.
    fs.writeFileSync(openai, Buffer.concat([original, Buffer.from('\n')]))
    assert.match(tampered(() => verifyBuiltinRegistry({registryDir, registryJson})).message, /registry\/openai\.yaml \(changed\)/)
    fs.writeFileSync(openai, original)
    assert.doesNotThrow(() => verifyBuiltinRegistry({registryDir, registryJson}))

    fs.writeFileSync(path.join(registryDir, 'evil.yaml'), 'provider: evil\n')
    fs.rmSync(path.join(registryDir, 'twilio.yaml'))
    assert.equal(
      tampered(() => verifyBuiltinRegistry({registryDir, registryJson})).message,
      'built-in registry modified: registry/evil.yaml (added), registry/twilio.yaml (removed)',
    )
    fs.rmSync(path.join(registryDir, 'evil.yaml'))
    fs.rmSync(path.join(registryDir, 'schema'), {recursive: true})
    fs.writeFileSync(path.join(registryDir, 'twilio.yaml'), fs.readFileSync(path.join(ROOT, 'registry', 'twilio.yaml')))
    assert.equal(
      tampered(() => verifyBuiltinRegistry({registryDir, registryJson})).message,
      'built-in registry modified: registry/schema/registry-provider.schema.json (removed)',
    )
  })

  it('treats a missing registry folder as tampering', () => {
    const registryJson = build(copyBuiltinRegistry())
    assert.match(
      tampered(() => verifyBuiltinRegistry({registryDir: path.join(tempDir(), 'none'), registryJson})).message,
      /registry\/ is missing or unreadable/,
    )
  })
})

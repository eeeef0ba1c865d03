import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {compileRegistry} from '../../src/registry/build'
import {hostPatternCovers, intersectHostPatterns} from '../../src/registry/host-pattern'
import {BuiltRegistry, ProviderDef} from '../../src/registry/types'
import {REGISTRY_DIR} from './helpers'

/** Providers the registry must ship, with their canonical secrets and capability names. */
/**
 * The catalog contract of issue 5: the original tool's 44 providers (same ids, secret names,
 * placeholders, hosts and capability ids; google-* use Google's token host and shopify is
 * per-tenant) and the providers added beyond it, with their required canonical secret names.
 */
const CONTRACT = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'catalog-contract.json'), 'utf8')) as {
  original: Record<string, {secrets: Record<string, string>; hosts: string[]; capabilities: string[]}>
  added: Record<string, string[]>
}
const EXPECTED_IDS = [...Object.keys(CONTRACT.original), ...Object.keys(CONTRACT.added)].sort()

describe('registry: shipped providers', () => {
  let built: BuiltRegistry
  let providers: ProviderDef[]

  before(() => {
    const result = compileRegistry(REGISTRY_DIR, {displayDir: 'registry'})
    assert.deepEqual(result.issues.map((i) => `${i.file}: ${i.pointer}: ${i.message}`), [])
    assert.ok(result.registry)
    built = result.registry
    providers = built.providers
  })

  it('has one valid file per provider, named <provider>.yaml, sorted by id', () => {
    const files = fs.readdirSync(REGISTRY_DIR).filter((n) => n.endsWith('.yaml')).sort()
    assert.deepEqual(files, EXPECTED_IDS.map((p) => `${p}.yaml`).sort())
    assert.deepEqual(providers.map((p) => p.provider), EXPECTED_IDS)
    assert.ok(providers.length >= 70)
    assert.deepEqual(Object.keys(built.files).sort(), [...files, 'schema/registry-provider.schema.json'].sort())
    assert.match(built.digest, /^[0-9a-f]{64}$/)
  })

  it('ships the expected secrets, auth, hosts and capabilities', () => {
    for (const def of providers) {
      assert.ok(def.title && def.docsUrl?.startsWith('https://') && def.description, `${def.provider} has title, docsUrl and description`)
      for (const c of def.capabilities) assert.ok(c.title && c.description, `${c.id} has a title and a description`)
      const expected = CONTRACT.original[def.provider]
      if (!expected) {
        for (const name of CONTRACT.added[def.provider]) assert.ok(name in def.vaultSecrets, `${def.provider} claims ${name}`)
        continue
      }
      assert.deepEqual(def.vaultSecrets, expected.secrets, def.provider)
      assert.deepEqual([...def.hosts].sort(), expected.hosts, def.provider)
      assert.deepEqual(def.capabilities.map((c) => c.id).sort(), expected.capabilities.map((c) => `${def.provider}/${c}`).sort(), def.provider)
    }
    const byId = new Map(providers.map((p) => [p.provider, p]))
    assert.deepEqual(byId.get('openai')?.auth, {header: {header_name: 'authorization', value_template: 'Bearer {{secret}}'}})
    assert.deepEqual(byId.get('anthropic')?.auth, {header: {header_name: 'x-api-key', value_template: '{{secret}}'}})
    assert.deepEqual(byId.get('gemini')?.auth, {query: {param_name: 'key', value_template: '{{secret}}'}})
    assert.deepEqual(byId.get('telegram')?.auth, {path: {prefix_template: '/bot{{secret}}'}})
    assert.deepEqual(byId.get('mailgun')?.auth, {basic: {username: 'api', password: '{{password}}'}})
    assert.deepEqual(byId.get('trello')?.auth, {
      multi_query: [{param_name: 'key', value_template: '{{key}}'}, {param_name: 'token', value_template: '{{token}}'}],
    })
    const oauth = byId.get('google-gmail')?.auth
    assert.ok(oauth && 'o_auth2' in oauth)
    assert.equal(oauth.o_auth2.grant_type, 'refresh_token')
    assert.equal(oauth.o_auth2.token_endpoint, 'https://oauth2.googleapis.com/token')
    assert.equal(oauth.o_auth2.scopes?.length, 3)
  })

  it('has globally unique provider and capability ids, each capability prefixed by its provider', () => {
    const ids = providers.flatMap((p) => p.capabilities.map((c) => c.id))
    assert.equal(new Set(ids).size, ids.length)
    assert.equal(new Set(providers.map((p) => p.provider)).size, providers.length)
    for (const def of providers) {
      for (const capability of def.capabilities) {
        assert.equal(capability.provider, def.provider, capability.id)
        assert.ok(capability.id.startsWith(`${def.provider}/`), capability.id)
      }
    }
  })

  it('claims every secret name at most once', () => {
    const owners = new Map<string, string>()
    for (const def of providers) {
      for (const name of Object.keys(def.vaultSecrets)) {
        assert.equal(owners.get(name), undefined, `${name} claimed by ${owners.get(name)} and ${def.provider}`)
        owners.set(name, def.provider)
      }
    }
  })

  it('has no empty allow list, only upper-case methods and /-rooted path prefixes', () => {
    for (const capability of providers.flatMap((p) => p.capabilities)) {
      const {hosts, methods, pathPrefixes} = capability.allow
      assert.ok(hosts.length > 0 && methods.length > 0 && pathPrefixes.length > 0, capability.id)
      for (const method of methods) assert.match(method, /^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)$/, capability.id)
      for (const prefix of pathPrefixes) assert.ok(prefix === '/' || (/^\/\S+$/.test(prefix) && !prefix.endsWith('/')), `${capability.id} ${prefix}`)
      assert.ok(capability.description, `${capability.id} has a description`)
    }
  })

  it('leaves every capability exactly one host, covered by its provider hosts', () => {
    for (const def of providers) {
      for (const capability of def.capabilities) {
        assert.equal(capability.allow.hosts.length, 1, capability.id)
        for (const host of capability.allow.hosts) assert.ok(def.hosts.some((p) => hostPatternCovers(p, host)), `${capability.id} ${host}`)
        assert.equal(intersectHostPatterns(def.hosts, capability.allow.hosts).length, 1, capability.id)
      }
    }
  })

  it('keeps the OAuth token host out of every Gmail capability', () => {
    const gmail = providers.find((p) => p.provider === 'google-gmail')
    assert.ok(gmail)
    for (const capability of gmail.capabilities) assert.notEqual(capability.allow.hosts[0], 'oauth2.googleapis.com', capability.id)
  })

  it('records per-file sha256 and the manifest digest of the files on disk', () => {
    const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex')
    const names = [...fs.readdirSync(REGISTRY_DIR).filter((n) => n.endsWith('.yaml')), 'schema/registry-provider.schema.json'].sort()
    const hashes = names.map((name) => sha(fs.readFileSync(path.join(REGISTRY_DIR, name))))
    names.forEach((name, i) => assert.equal(built.files[name], hashes[i], name))
    assert.equal(built.digest, sha(names.map((name, i) => `${hashes[i]}  ${name}\n`).join('')))
  })
})

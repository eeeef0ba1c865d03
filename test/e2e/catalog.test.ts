import {strict as assert} from 'node:assert'
import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {describeCapability} from '../../src/broker/credential/capability-catalog'
import {Registry} from '../../src/registry/registry'
import type {ProviderDef} from '../../src/registry/types'
import {Vault} from '../../src/vault/vault'
import {parseJson, REPO_ROOT, useTempVault} from './fixture'

const built = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'dist', 'registry.json'), 'utf8')) as {providers: ProviderDef[]}
const providers = built.providers

describe('e2e: the provider catalog', () => {
  const vault = useTempVault()

  it('ships 70+ providers, each claimed secret name once', () => {
    assert.ok(providers.length >= 70, `${providers.length} providers`)
    const names = providers.flatMap((p) => Object.keys(p.vaultSecrets))
    assert.equal(new Set(names).size, names.length)
  })

  it('every canonical secret pins to its provider and completes its credential (one import over the whole catalog)', () => {
    const v = vault()
    const entries = providers.flatMap((p) => Object.keys(p.vaultSecrets).map((name, i) => `${name}=value-${p.provider}-${i}-0123456789`))
    const file = path.join(v.base, 'catalog.env')
    fs.writeFileSync(file, entries.join('\n') + '\n')
    const imported = parseJson(v.run(['secrets', 'import', '--from-env-file', file, '--json']))
    assert.equal(imported.created.length, entries.length, JSON.stringify(imported.skipped))
    const secrets = parseJson(v.run(['secrets', 'list', '--json'])).secrets as Array<{name: string; pinnedProvider: string}>
    for (const p of providers) {
      for (const name of Object.keys(p.vaultSecrets)) {
        assert.equal(secrets.find((s) => s.name === name)?.pinnedProvider, p.provider, `${name} pins to ${p.provider}`)
      }
    }
    const credentials = parseJson(v.run(['credential', 'list', '--json'])).credentials as Array<{id: string; provider: string; secretRefs: Record<string, string>}>
    for (const p of providers) {
      const credential = credentials.find((c) => c.id === p.provider)
      assert.ok(credential, `credential ${p.provider} provisioned`)
      assert.deepEqual(Object.keys(credential.secretRefs).sort(), [...new Set(Object.values(p.vaultSecrets))].sort(), `${p.provider} refers to each component by placeholder`)
    }
    // Per-tenant providers (hosts only as patterns) wait for their tenant host (SPEC §4).
    const perTenant = (p: ProviderDef) => p.hosts.every((h) => h.startsWith('*.'))
    const count = (list: ProviderDef[]) => list.reduce((n, p) => n + p.capabilities.length, 0)
    const listing = parseJson(v.run(['capability', 'list', '--json']))
    assert.equal(listing.available.length, 0)
    assert.equal(listing.ready.length, count(providers.filter((p) => !perTenant(p))))
    assert.equal(listing.waiting.length, count(providers.filter(perTenant)))
    assert.deepEqual(new Set(listing.waiting.map((c: {provider: string}) => c.provider)), new Set(providers.filter(perTenant).map((p) => p.provider)))
  })

  it('multi-secret providers wait for their full set', () => {
    const v = vault()
    for (const p of providers.filter((x) => Object.keys(x.vaultSecrets).length > 1)) {
      const [first, ...rest] = Object.keys(p.vaultSecrets)
      const result = v.run(['secrets', 'create', '--name', first, '--value-stdin'], {input: `v-${p.provider}-0123456789`})
      assert.equal(result.status, 0, result.stderr)
      assert.match(result.stdout, new RegExp(`^Secret created: ${first} \\(pinned to provider: ${p.provider}\\)\\nWaiting for ${[...rest].sort().join(', ')} to complete ${p.provider} credential\\n$`))
    }
    assert.deepEqual(parseJson(v.run(['credential', 'list', '--json'])).credentials, [])
  })

  it('every capability describes itself without a credential: one host, methods, prefixes and 2-3 examples', () => {
    const v = vault()
    const registry = new Registry(providers)
    const vaultModel = Vault.fromEnv(v.env)
    for (const p of providers) {
      for (const c of p.capabilities) {
        const d = describeCapability(vaultModel, registry, c.id)
        assert.equal(d.hosts.length, 1, c.id)
        assert.ok(d.methods.length > 0 && d.pathPrefixes.length > 0, c.id)
        assert.ok(d.examples.length >= 2 && d.examples.length <= 3, c.id)
        assert.ok(d.requiredSecrets.length > 0, c.id)
      }
    }
    const one = parseJson(v.run(['capability', 'describe', 'openai/chat-completions', '--json']))
    for (const field of ['id', 'provider', 'title', 'description', 'methods', 'hosts', 'pathPrefixes', 'requiredSecrets', 'defaults', 'examples']) assert.ok(field in one, field)
    assert.equal(fs.existsSync(v.root), false, 'describing creates no vault')
  })

  it('providers list and show browse the catalog', () => {
    const v = vault()
    const list = parseJson(v.run(['providers', 'list', '--json'])).providers as Array<{provider: string; capabilities: number}>
    assert.equal(list.length, providers.length)
    const show = parseJson(v.run(['providers', 'show', 'trello', '--json']))
    assert.deepEqual(show.secrets.sort(), ['TRELLO_API_KEY', 'TRELLO_TOKEN'])
    assert.equal(show.capabilityList.length, show.capabilities)
    const missing = v.run(['providers', 'show', 'nope', '--json'])
    assert.equal(missing.status, 1)
    assert.equal(parseJson(missing).error.code, 'not_found')
  })

  it('a modified built-in registry makes the CLI refuse broker operations', function () {
    this.timeout(120_000)
    // A private copy of the installed package, so the real registry/ is never touched.
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-pkg-'))
    try {
      for (const entry of ['bin', 'dist', 'registry', 'package.json', 'oclif.manifest.json']) fs.cpSync(path.join(REPO_ROOT, entry), path.join(copy, entry), {recursive: true})
      fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(copy, 'node_modules'))
      const v = vault()
      const cli = path.join(copy, 'bin', 'run.js')
      const run = (args: string[], input?: string) => spawnSync(process.execPath, [cli, ...args], {env: {...v.env, AIVAULTD_DISABLE: '1'}, input, encoding: 'utf8'})
      assert.equal(run(['init', '--testing']).status, 0)
      assert.equal(run(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin'], 'sk-catalog-test-0123456789').status, 0)
      const file = path.join(copy, 'registry', 'openai.yaml')
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('api.openai.com', 'evil.example.com'))
      const refused = run(['invoke', 'openai/models', '--path', '/v1/models', '--json'])
      assert.equal(refused.status, 1, refused.stdout + refused.stderr)
      const error = JSON.parse(refused.stdout).error
      assert.equal(error.code, 'vault_tampered')
      assert.match(error.message, /registry\/openai\.yaml/)
    } finally {
      fs.rmSync(copy, {recursive: true, force: true})
    }
  })
})

import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import {createRequire} from 'node:module'
import * as path from 'node:path'
import * as YAML from 'yaml'
import {compileRegistry, runRegistryBuild} from '../../src/registry/build'
import {formatIssue, jsonPointer, templatePlaceholders} from '../../src/registry/rules'
import {fixture, makeRegistry, removeTempDirs, ROOT, tempDir} from './helpers'

/** A provider document being broken on purpose: any shape goes. */
type Draft = Record<string, any>

/** Formatted issues of a registry made of `files`, shown as `registry/<file>`. */
function problems(files: Record<string, string>, options: {withBuiltins?: boolean} = {}): string[] {
  const result = compileRegistry(makeRegistry(files, options), {displayDir: 'registry'})
  assert.equal(result.registry === undefined, result.issues.length > 0)
  return result.issues.map(formatIssue)
}

/** The valid acme fixture, changed by `mutate`. */
function acme(mutate: (def: Draft) => void): string {
  const def = YAML.parse(fixture('acme.yaml'))
  mutate(def)
  return YAML.stringify(def)
}

describe('registry: validation rules', () => {
  after(removeTempDirs)

  it('accepts the valid fixture', () => {
    assert.deepEqual(problems({'acme.yaml': fixture('acme.yaml')}), [])
  })

  describe('invalid fixtures name the file and the JSON pointer', () => {
    it('empty methods', () => {
      assert.deepEqual(problems({'acme.yaml': fixture('empty-methods.yaml')}), [
        'registry/acme.yaml: /capabilities/0/allow/methods: must NOT have fewer than 1 items',
      ])
    })

    it('a *.com host', () => {
      assert.deepEqual(problems({'acme.yaml': fixture('wildcard-tld.yaml')}), [
        'registry/acme.yaml: /hosts/0: must be a lower-case host name, or *.suffix with at least two suffix labels (no port, no trailing dot)',
      ])
    })

    it('an unknown auth kind', () => {
      assert.deepEqual(problems({'acme.yaml': fixture('unknown-auth.yaml')}), [
        'registry/acme.yaml: /auth/bearer_token: unknown auth kind "bearer_token" (expected one of header, query, path, basic, multi_header, multi_query, o_auth2, aws_sig_v4, hmac, mtls, plugin)',
      ])
    })

    it('a capability id of another provider', () => {
      assert.deepEqual(problems({'acme.yaml': fixture('foreign-capability.yaml')}), [
        'registry/acme.yaml: /capabilities/0/id: capability "openai/widgets" must start with "acme/"',
      ])
    })

    it('a secret name another provider already claims', () => {
      assert.deepEqual(problems({'zeta.yaml': fixture('claims-openai-key.yaml')}, {withBuiltins: true}), [
        'registry/zeta.yaml: /vaultSecrets/OPENAI_API_KEY: secret OPENAI_API_KEY is already claimed by provider "openai" (registry/openai.yaml)',
      ])
    })
  })

  it('requires the file name to be <provider>.yaml and provider ids to be unique', () => {
    assert.deepEqual(problems({'acme.yaml': fixture('acme.yaml'), 'beta.yaml': fixture('acme.yaml')}), [
      'registry/beta.yaml: /provider: provider "acme" must be defined in acme.yaml, not beta.yaml',
      'registry/beta.yaml: /provider: provider "acme" is already defined in registry/acme.yaml',
    ])
  })

  it('requires the capability provider field to be the file provider', () => {
    const text = acme((d) => (d.capabilities[1].provider = 'other'))
    assert.deepEqual(problems({'acme.yaml': text}), ['registry/acme.yaml: /capabilities/1/provider: must be "acme" (the file\'s provider), not "other"'])
  })

  it('refuses duplicate capability ids', () => {
    const text = acme((d) => (d.capabilities[1].id = 'acme/widgets'))
    assert.deepEqual(problems({'acme.yaml': text}), ['registry/acme.yaml: /capabilities/1/id: duplicate capability id "acme/widgets"'])
  })

  it('refuses empty lists anywhere (never allow-all)', () => {
    const cases: Array<[(d: Draft) => void, string]> = [
      [(d) => (d.capabilities[0].allow.hosts = []), '/capabilities/0/allow/hosts: must NOT have fewer than 1 items'],
      [(d) => (d.capabilities[0].allow.pathPrefixes = []), '/capabilities/0/allow/pathPrefixes: must NOT have fewer than 1 items'],
      [(d) => (d.capabilities = []), '/capabilities: must NOT have fewer than 1 items'],
      [(d) => (d.hosts = []), '/hosts: must NOT have fewer than 1 items'],
      [(d) => (d.vaultSecrets = {}), '/vaultSecrets: must NOT have fewer than 1 properties'],
      [(d) => delete d.capabilities[0].allow.methods, '/capabilities/0/allow/methods: is required'],
    ]
    for (const [mutate, expected] of cases) {
      assert.deepEqual(problems({'acme.yaml': acme(mutate)}), [`registry/acme.yaml: ${expected}`])
    }
  })

  it('checks methods, path prefixes, ids, names and URLs', () => {
    const cases: Array<[(d: Draft) => void, string]> = [
      [(d) => (d.capabilities[0].allow.methods = ['get']), '/capabilities/0/allow/methods/0: must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'],
      [(d) => (d.capabilities[0].allow.pathPrefixes = ['v1/widgets']), '/capabilities/0/allow/pathPrefixes/0: must be "/" or a path starting with "/" without empty segments or a trailing slash'],
      [(d) => (d.capabilities[0].allow.pathPrefixes = ['/v1/../admin']), '/capabilities/0/allow/pathPrefixes/0: must not contain "." or ".." segments'],
      [(d) => (d.capabilities[0].id = 'widgets'), '/capabilities/0/id: must be "<provider>/<name>"'],
      [(d) => (d.provider = 'Acme'), '/provider: must match ^[a-z0-9][a-z0-9-]*$'],
      [(d) => (d.vaultSecrets = {'ACME KEY': 'secret'}), '/vaultSecrets/ACME KEY: is not a valid secret name (^[A-Za-z_][A-Za-z0-9_.-]*$)'],
      [(d) => (d.vaultSecrets = {ACME_API_KEY: 'Secret'}), '/vaultSecrets/ACME_API_KEY: must match ^[a-z_][a-z0-9_]*$'],
      [(d) => (d.docsUrl = 'http://docs.acme.example.com'), '/docsUrl: must be an https:// URL'],
      [(d) => (d.capabilities[0].transport = 'ftp'), '/capabilities/0/transport: must be one of http, plugin'],
      [(d) => (d.extra = true), '/extra: is not an allowed property'],
      [(d) => (d.capabilities[0].allow.paths = ['/']), '/capabilities/0/allow/paths: is not an allowed property'],
      [(d) => (d.auth = {header: d.auth.header, query: {param_name: 'k'}}), '/auth: must declare exactly one auth kind'],
      [(d) => (d.auth.header.extra = 'x'), '/auth/header/extra: is not an allowed property'],
    ]
    for (const [mutate, expected] of cases) {
      assert.deepEqual(problems({'acme.yaml': acme(mutate)}), [`registry/acme.yaml: ${expected}`])
    }
  })

  it('requires capability hosts to match the provider hosts and leave exactly one', () => {
    assert.deepEqual(problems({'acme.yaml': acme((d) => (d.capabilities[0].allow.hosts = ['api.other.example.com']))}), [
      'registry/acme.yaml: /capabilities/0/allow/hosts/0: host api.other.example.com does not match any of the hosts api.acme.example.com, *.tenants.acme.example.com',
    ])
    assert.deepEqual(problems({'acme.yaml': acme((d) => (d.capabilities[0].allow.hosts = ['api.acme.example.com', 'a.tenants.acme.example.com']))}), [
      'registry/acme.yaml: /capabilities/0/allow/hosts: must leave exactly one host after intersecting with the hosts (got 2: api.acme.example.com, a.tenants.acme.example.com)',
    ])
    // A wildcard capability host is never covered by an exact provider host.
    assert.deepEqual(problems({'acme.yaml': acme((d) => (d.capabilities[0].allow.hosts = ['*.acme.example.com']))}), [
      'registry/acme.yaml: /capabilities/0/allow/hosts/0: host *.acme.example.com does not match any of the hosts api.acme.example.com, *.tenants.acme.example.com',
    ])
    // An exact tenant host under the provider wildcard is fine.
    assert.deepEqual(problems({'acme.yaml': acme((d) => (d.capabilities[1].allow.hosts = ['eu.tenants.acme.example.com']))}), [])
  })

  it('requires every auth placeholder to be declared in vaultSecrets', () => {
    assert.deepEqual(problems({'acme.yaml': acme((d) => (d.auth.header.value_template = 'Bearer {{token}}'))}), [
      'registry/acme.yaml: /auth/header/value_template: placeholder {{token}} is not declared in vaultSecrets',
    ])
    assert.deepEqual(problems({'acme.yaml': acme((d) => (d.auth.header.value_template = 'Bearer {{ secret }}'))}), [
      'registry/acme.yaml: /auth/header/value_template: malformed placeholder "{{ secret }}"',
    ])
    assert.deepEqual(problems({'acme.yaml': acme((d) => (d.auth.header.value_template = 'Bearer {{secret}'))}), [
      'registry/acme.yaml: /auth/header/value_template: unbalanced "{{" or "}}"',
    ])
    const multi = acme((d) => {
      d.vaultSecrets = {ACME_ID: 'client_id', ACME_KEY: 'key'}
      d.auth = {multi_query: [{param_name: 'id', value_template: '{{client_id}}'}, {param_name: 'key', value_template: '{{secret}}'}]}
    })
    assert.deepEqual(problems({'acme.yaml': multi}), [
      'registry/acme.yaml: /auth/multi_query/1/value_template: placeholder {{secret}} is not declared in vaultSecrets',
    ])
  })

  it('lets basic use username/password and hmac use {{signature}}', () => {
    assert.deepEqual(problems({'acme.yaml': acme((d) => (d.auth = {basic: {username: '{{username}}', password: '{{password}}'}}))}), [])
    assert.deepEqual(problems({'acme.yaml': acme((d) => (d.auth = {basic: {username: 'api', password: '{{secret}}'}}))}), [])
    assert.deepEqual(problems({'acme.yaml': acme((d) => (d.auth = {basic: {username: '{{user}}'}}))}), [
      'registry/acme.yaml: /auth/basic/username: placeholder {{user}} is not declared in vaultSecrets',
    ])
    const hmac = (value_template: string) => acme((d) => (d.auth = {hmac: {algorithm: 'sha256', header_name: 'x-signature', value_template}}))
    assert.deepEqual(problems({'acme.yaml': hmac('v1={{signature}}')}), [])
    assert.deepEqual(problems({'acme.yaml': hmac('v1={{secret}}')}), ['registry/acme.yaml: /auth/hmac/value_template: must contain {{signature}}'])
    assert.deepEqual(problems({'acme.yaml': acme((d) => (d.auth.header.value_template = 'Bearer {{signature}}'))}), [
      'registry/acme.yaml: /auth/header/value_template: placeholder {{signature}} is not declared in vaultSecrets',
    ])
  })

  it('refuses two secrets filling one placeholder and duplicate multi_header names', () => {
    assert.deepEqual(problems({'acme.yaml': acme((d) => (d.vaultSecrets = {ACME_API_KEY: 'secret', ACME_OTHER: 'secret'}))}), [
      'registry/acme.yaml: /vaultSecrets/ACME_OTHER: placeholder "secret" is already filled by ACME_API_KEY',
    ])
    const headers = acme((d) => (d.auth = {multi_header: [{header_name: 'X-Key', value_template: '{{secret}}'}, {header_name: 'x-key', value_template: 'b'}]}))
    assert.deepEqual(problems({'acme.yaml': headers}), ['registry/acme.yaml: /auth/multi_header/1/header_name: duplicate header_name "x-key"'])
  })

  it('requires the OAuth token endpoint to be https and within the hosts', () => {
    const oauth = (token_endpoint: string) =>
      acme((d) => (d.auth = {o_auth2: {grant_type: 'refresh_token', token_endpoint, scopes: ['read']}}))
    assert.deepEqual(problems({'acme.yaml': oauth('https://api.acme.example.com/oauth/token')}), [])
    assert.deepEqual(problems({'acme.yaml': oauth('https://login.example.com/token')}), [
      'registry/acme.yaml: /auth/o_auth2/token_endpoint: host login.example.com is not in the hosts list',
    ])
    assert.deepEqual(problems({'acme.yaml': oauth('http://api.acme.example.com/token')}), [
      'registry/acme.yaml: /auth/o_auth2/token_endpoint: must be an https:// URL',
    ])
  })

  it('checks credential alternatives like the provider', () => {
    const withAlt = (alt: Record<string, unknown>) => acme((d) => (d.credentialAlternatives = [alt]))
    const base = {
      id: 'eu',
      vaultSecrets: {ACME_API_KEY: 'secret'},
      auth: {header: {header_name: 'authorization', value_template: 'Bearer {{secret}}'}},
      hosts: ['api.eu.acme.example.com'],
      capabilities: [{id: 'acme/widgets', provider: 'acme', allow: {hosts: ['api.eu.acme.example.com'], methods: ['GET'], pathPrefixes: ['/v1/widgets']}}],
    }
    assert.deepEqual(problems({'acme.yaml': withAlt(base)}), [])
    assert.deepEqual(problems({'acme.yaml': withAlt({...base, vaultSecrets: {ACME_API_KEY: 'key'}, auth: {query: {param_name: 'k', value_template: '{{key}}'}}})}), [
      'registry/acme.yaml: /credentialAlternatives/0/vaultSecrets/ACME_API_KEY: ACME_API_KEY fills "secret" in the main auth; an alternative must use the same placeholder',
    ])
    assert.deepEqual(problems({'acme.yaml': withAlt({...base, hosts: ['api.acme.example.com']})}), [
      'registry/acme.yaml: /credentialAlternatives/0/capabilities/0/allow/hosts/0: host api.eu.acme.example.com does not match any of the hosts api.acme.example.com',
    ])
    assert.deepEqual(problems({'acme.yaml': withAlt({...base, capabilities: []})}), [
      'registry/acme.yaml: /credentialAlternatives/0/capabilities: must NOT have fewer than 1 items',
    ])
  })

  it('reports YAML errors and duplicate keys with the file name', () => {
    const [bad] = problems({'acme.yaml': 'provider: acme\nprovider: beta\n'})
    assert.match(bad, /^registry\/acme\.yaml: \(root\): invalid YAML: .*[Mm]ap keys must be unique/)
    const [broken] = problems({'acme.yaml': 'provider: [acme\n'})
    assert.match(broken, /^registry\/acme\.yaml: \(root\): invalid YAML: /)
  })

  it('escapes JSON pointers and parses placeholders', () => {
    assert.equal(jsonPointer('a/b', 'c~d', 0), '/a~1b/c~0d/0')
    assert.deepEqual(templatePlaceholders('{{a}}:{{b_2}}'), {names: ['a', 'b_2']})
    assert.equal(templatePlaceholders('{{A}}').error, 'malformed placeholder "{{A}}"')
  })

  describe('the build', () => {
    const capture = () => {
      const lines = {out: [] as string[], err: [] as string[]}
      return {lines, io: {out: (l: string) => lines.out.push(l), err: (l: string) => lines.err.push(l)}}
    }

    it('fails on an invalid file, naming the file and pointer, and writes nothing', () => {
      const dir = makeRegistry({'acme.yaml': fixture('empty-methods.yaml')})
      const out = tempDir()
      const {lines, io} = capture()
      assert.equal(runRegistryBuild(ROOT, ['--registry', dir, '--out', out], io), 1)
      assert.ok(
        lines.err.some((l) => l.endsWith('/acme.yaml: /capabilities/0/allow/methods: must NOT have fewer than 1 items')),
        lines.err.join('\n'),
      )
      assert.deepEqual(fs.readdirSync(out), [])
    })

    it('refuses unknown arguments with exit code 2', () => {
      const {lines, io} = capture()
      assert.equal(runRegistryBuild(ROOT, ['--bogus'], io), 2)
      assert.match(lines.err[0], /unknown argument --bogus/)
    })

    it('writes registry.json and a standalone validator that agrees with the schema', () => {
      const out = tempDir()
      const {lines, io} = capture()
      assert.equal(runRegistryBuild(ROOT, ['--out', out], io), 0, lines.err.join('\n'))
      assert.match(lines.out[0], /^registry: \d+ providers, \d+ capabilities, digest [0-9a-f]{12}$/)
      const built = JSON.parse(fs.readFileSync(path.join(out, 'registry.json'), 'utf8'))
      assert.deepEqual(Object.keys(built), ['digest', 'files', 'providers'])
      assert.deepEqual(built.providers.map((p: {provider: string}) => p.provider), [...built.providers.map((p: {provider: string}) => p.provider)].sort())

      const validatorFile = path.join(out, 'registry', 'provider-validator.js')
      const source = fs.readFileSync(validatorFile, 'utf8')
      for (const match of source.matchAll(/require\("([^"]+)"\)/g)) assert.match(match[1], /^ajv\/dist\/runtime\//)
      // Load it as dist would, resolving ajv from the package (the temp dir has no node_modules).
      const mod = {exports: {} as unknown}
      new Function('module', 'exports', 'require', source)(mod, mod.exports, createRequire(path.join(ROOT, 'package.json')))
      const validate = mod.exports as ((data: unknown) => boolean) & {errors?: Array<{instancePath: string}>}
      for (const provider of built.providers) assert.equal(validate(provider), true, provider.provider)
      assert.equal(validate(YAML.parse(fixture('empty-methods.yaml'))), false)
      assert.deepEqual(validate.errors?.map((e) => e.instancePath), ['/capabilities/0/allow/methods'])
    })
  })
})

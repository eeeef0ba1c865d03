/**
 * `aivault credential create|list|delete` end to end (SPEC §5, §15), run through the built CLI.
 */
import * as assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {parse as parseYaml} from 'yaml'

import type {TempVault} from './fixture'
import {assertCredentialShape, expectHumanError, expectJsonError, parseJson, REPO_ROOT, useTempVault} from './fixture'

function registryProvider(provider: string): any {
  return parseYaml(fs.readFileSync(path.join(REPO_ROOT, 'registry', `${provider}.yaml`), 'utf8'))
}

function createCredential(tv: TempVault, args: string[]): any {
  const result = tv.run(['credential', 'create', ...args, '--json'])
  assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`)
  const body = parseJson(result)
  assertCredentialShape(body)
  return body
}

function credentialList(tv: TempVault): any[] {
  const result = tv.run(['credential', 'list', '--json'])
  assert.equal(result.status, 0, result.stderr)
  const body = parseJson(result)
  assert.deepEqual(Object.keys(body), ['credentials'])
  for (const c of body.credentials) assertCredentialShape(c)
  return body.credentials
}

const ref = (id: string) => `vault:secret:${id}`

describe('credential CLI (SPEC §5, §15)', () => {
  const vault = useTempVault()

  it('creates a custom header credential with the SPEC §15 shape; list shows the same object', () => {
    const tv = vault()
    const secret = tv.createSecret('MY_API_KEY', 'custom-api-value')
    const created = createCredential(tv, [
      'my-api',
      '--provider',
      'my-api',
      '--secret-ref',
      ref(secret),
      '--auth',
      'header',
      '--header-name',
      'x-api-key',
      '--value-template',
      '{{secret}}',
      '--host',
      'api.example.com',
    ])
    assert.equal(created.id, 'my-api')
    assert.equal(created.provider, 'my-api')
    assert.equal(created.auth.type, 'header')
    assert.equal(created.auth.headerName, 'x-api-key')
    assert.equal(created.auth.valueTemplate, '{{secret}}')
    assert.deepEqual(created.hosts, ['api.example.com'])
    assert.deepEqual(Object.values(created.secretRefs), [ref(secret)])
    assert.equal(created.workspaceId, null)
    assert.equal(created.groupId, null)

    const listed = credentialList(tv)
    assert.deepEqual(listed, [created])
    const human = tv.ok(['credential', 'list'])
    assert.match(human, /my-api/)
    assert.match(human, /api\.example\.com/)
    const files = fs.readdirSync(path.join(tv.root, 'credentials'))
    assert.equal(files.length, 1)
    const record = fs.readFileSync(path.join(tv.root, 'credentials', files[0]), 'utf8')
    assert.ok(!record.includes('custom-api-value'), 'a credential record holds a reference, never the value')
    assert.equal(fs.statSync(path.join(tv.root, 'credentials', files[0])).mode & 0o777, 0o600)
  })

  it('a custom provider needs --auth and a --host; wildcard hosts are refused (exit 2); nothing is written', () => {
    const tv = vault()
    const secret = tv.createSecret('MY_API_KEY', 'v')
    const before = tv.snapshot()
    const base = ['credential', 'create', 'my-api', '--provider', 'my-api', '--secret-ref', ref(secret)]

    const noAuth = tv.run([...base, '--host', 'api.example.com'])
    assert.ok([1, 2].includes(noAuth.status), `exit ${noAuth.status}`)
    assert.match(expectHumanError(noAuth, noAuth.status), /auth/)
    const noAuthJson = expectJsonError(tv.run([...base, '--host', 'api.example.com', '--json']), noAuth.status)
    assert.ok(['invalid_request', 'policy_violation'].includes(noAuthJson.code), noAuthJson.code)

    const noHost = tv.run([...base, '--auth', 'header'])
    assert.ok([1, 2].includes(noHost.status), `exit ${noHost.status}`)
    assert.match(expectHumanError(noHost, noHost.status), /host/)

    expectHumanError(tv.run([...base, '--auth', 'header', '--host', '*.example.com']), 2)
    expectJsonError(tv.run([...base, '--auth', 'header', '--host', 'api.example.com', '--host', '*.example.com', '--json']), 2)
    assert.deepEqual(tv.snapshot(), before)
    assert.deepEqual(credentialList(tv), [])
  })

  it('a registry provider takes its auth from the registry; --host may only narrow to matching hosts', () => {
    const tv = vault()
    const secret = tv.createSecret('SHOPIFY_ACCESS_TOKEN', 'shpat-value')
    const shopify = registryProvider('shopify')
    const created = createCredential(tv, ['shop', '--provider', 'shopify', '--secret-ref', ref(secret), '--host', 'my-store.myshopify.com'])
    assert.equal(created.provider, 'shopify')
    assert.deepEqual(created.hosts, ['my-store.myshopify.com'])
    const registryAuthType = Object.keys(shopify.auth)[0]
    assert.equal(created.auth.type, registryAuthType)
    assert.equal(created.auth.headerName, shopify.auth.header.header_name)
    assert.deepEqual(created.secretRefs, {[Object.values(shopify.vaultSecrets)[0] as string]: ref(secret)})

    const before = tv.snapshot()
    expectHumanError(tv.run(['credential', 'create', 'evil', '--provider', 'shopify', '--secret-ref', ref(secret), '--host', 'evil.com']), 1)
    expectJsonError(tv.run(['credential', 'create', 'evil', '--provider', 'shopify', '--secret-ref', ref(secret), '--host', 'evil.com', '--json']), 1, 'policy_violation')
    // A suffix that only looks like the pattern is refused too.
    expectJsonError(
      tv.run(['credential', 'create', 'evil', '--provider', 'shopify', '--secret-ref', ref(secret), '--host', 'myshopify.com.evil.com', '--json']),
      1,
      'policy_violation',
    )
    assert.deepEqual(tv.snapshot(), before)
    assert.ok(!credentialList(tv).some((c) => c.id === 'evil'))
  })

  it('a secret pinned to openai cannot back a github credential (policy_violation)', () => {
    const tv = vault()
    const openai = tv.createSecret('OPENAI_API_KEY', 'sk-pinned')
    const before = tv.snapshot()
    const args = ['credential', 'create', 'gh', '--provider', 'github', '--secret-ref', ref(openai)]
    expectHumanError(tv.run(args), 1)
    expectJsonError(tv.run([...args, '--json']), 1, 'policy_violation')
    // Nor a custom provider's.
    expectJsonError(
      tv.run(['credential', 'create', 'mine', '--provider', 'my-api', '--secret-ref', ref(openai), '--auth', 'header', '--host', 'api.example.com', '--json']),
      1,
      'policy_violation',
    )
    assert.deepEqual(tv.snapshot(), before)
    assert.deepEqual(
      credentialList(tv).map((c) => c.id),
      ['openai'],
    )
  })

  it('multi-secret trello from --secret-ref PLACEHOLDER=vault:secret:<id>, scoped to a group', () => {
    const tv = vault()
    const key = tv.createSecret('TRELLO_API_KEY', 'trello-key', ['--scope', 'workspace', '--workspace-id', 'team'])
    const token = tv.createSecret('TRELLO_TOKEN', 'trello-token', ['--scope', 'workspace', '--workspace-id', 'team'])
    const trello = registryProvider('trello')
    const created = createCredential(tv, [
      'trello-backend',
      '--provider',
      'trello',
      '--secret-ref',
      `key=${ref(key)}`,
      '--secret-ref',
      `token=${ref(token)}`,
      '--workspace-id',
      'team',
      '--group-id',
      'backend',
    ])
    assert.equal(created.provider, 'trello')
    assert.deepEqual(created.secretRefs, {key: ref(key), token: ref(token)})
    assert.equal(created.auth.type, Object.keys(trello.auth)[0])
    assert.deepEqual(created.hosts, trello.hosts)
    assert.equal(created.workspaceId, 'team')
    assert.equal(created.groupId, 'backend')
    const byId = Object.fromEntries(credentialList(tv).map((c) => [c.id, c]))
    assert.deepEqual(Object.keys(byId).sort(), ['trello-backend', 'trello:ws:team'])
    assert.deepEqual(byId['trello-backend'], created)
    assert.deepEqual(byId['trello:ws:team'].secretRefs, created.secretRefs)
  })

  it('--auth accepts kebab and snake spellings (multi-header / multi_header)', () => {
    const tv = vault()
    const secret = tv.createSecret('MULTI_SECRET', '{"a":"1","b":"2"}')
    const common = (id: string, auth: string) => [
      id,
      '--provider',
      'multi-api',
      '--secret-ref',
      ref(secret),
      '--auth',
      auth,
      '--auth-header',
      'x-a={{a}}',
      '--auth-header',
      'x-b={{b}}',
      '--host',
      'api.multi.example.com',
    ]
    const kebab = createCredential(tv, common('kebab', 'multi-header'))
    const snake = createCredential(tv, common('snake', 'multi_header'))
    assert.equal(kebab.auth.type, 'multi_header')
    assert.deepEqual(snake.auth, kebab.auth)
    assert.deepEqual(kebab.hosts, ['api.multi.example.com'])
    assert.ok(JSON.stringify(kebab.auth).includes('x-a') && JSON.stringify(kebab.auth).includes('x-b'), JSON.stringify(kebab.auth))
    // An unknown strategy is a usage error.
    const before = tv.snapshot()
    expectHumanError(tv.run(['credential', 'create', ...common('bad', 'multi-headerz')]), 2)
    assert.deepEqual(tv.snapshot(), before)
  })

  it('credential delete removes one credential (the secret stays); a missing one is credential_not_found', () => {
    const tv = vault()
    const secret = tv.createSecret('MY_API_KEY', 'v')
    for (const id of ['api-one', 'api-two']) {
      createCredential(tv, [id, '--provider', 'my-api', '--secret-ref', ref(secret), '--auth', 'query', '--host', 'api.example.com'])
    }
    assert.deepEqual(
      credentialList(tv).map((c) => c.id),
      ['api-one', 'api-two'],
    )
    const deleted = tv.run(['credential', 'delete', 'api-one'])
    assert.equal(deleted.status, 0, deleted.stderr)
    assert.match(deleted.stdout, /api-one/)
    assert.deepEqual(
      credentialList(tv).map((c) => c.id),
      ['api-two'],
    )
    assert.equal(tv.json(['secrets', 'list']).secrets.length, 1)

    const before = tv.snapshot()
    expectHumanError(tv.run(['credential', 'delete', 'api-one']), 1)
    expectJsonError(tv.run(['credential', 'delete', 'api-one', '--json']), 1, 'credential_not_found')
    assert.deepEqual(tv.snapshot(), before)
  })

  it('credential list and delete on a missing vault create nothing', () => {
    const tv = vault()
    assert.deepEqual(credentialList(tv), [])
    expectJsonError(tv.run(['credential', 'delete', 'nope', '--json']), 1, 'credential_not_found')
    assert.ok(!fs.existsSync(tv.root))
  })
})

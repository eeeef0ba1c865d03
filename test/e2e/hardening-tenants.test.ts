/**
 * Issue 12, item 6: per-tenant providers (hosts only given as patterns, e.g. `*.myshopify.com`;
 * SPEC §4, §5 hardened). Their credential waits for a tenant host instead of claiming to be
 * ready; `credential update <id> --host` completes it; from then on the key is bound to that
 * tenant: another credential, an edited credential record or an edited secret record cannot
 * send it anywhere else.
 */
import * as assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {TempVault, auditEvents, expectJsonError, killDaemonsUnder, parseJson} from './fixture'
import {reached, resolveEnv, startUpstream, type Upstream} from './upstream'

const TOKEN = 'shpat-hardening-tenant-0123456789abcdef'
const TOKEN_V2 = 'shpat-hardening-tenant-V2-fedcba9876543210'
const STORE = 'my-store.myshopify.com'
const EVIL = 'evil-store.myshopify.com'
const COMPLETE = 'aivault credential update shopify --host <tenant>.myshopify.com'

describe('e2e hardening: per-tenant providers (issue 12 item 6)', function () {
  this.timeout(120_000)
  let up: Upstream
  const vaults: TempVault[] = []
  const fresh = (): TempVault => {
    const tv = new TempVault()
    vaults.push(tv)
    tv.ok(['init', '--testing'])
    return tv
  }
  const inProcess = () => ({...resolveEnv(up), AIVAULTD_DISABLE: '1'})
  const invoke = (tv: TempVault, env: Record<string, string> = inProcess()) => tv.runAsync(['invoke', 'shopify/admin', '--method', 'GET', '--path', '/admin/api/2024-01/shop.json', '--json'], {env})
  const credentialFile = (tv: TempVault, id = 'shopify') => path.join(tv.root, 'credentials', `${id}.yaml`)
  const replaceIn = (file: string, from: string | RegExp, to: string) => fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(from, to))

  /** A vault whose shopify credential names my-store.myshopify.com and whose token is bound to it. */
  const boundVault = (): {tv: TempVault; secretId: string} => {
    const tv = fresh()
    const secretId = tv.createSecret('SHOPIFY_ACCESS_TOKEN', TOKEN)
    tv.ok(['credential', 'update', 'shopify', '--host', STORE])
    return {tv, secretId}
  }

  before(async () => {
    up = await startUpstream()
  })

  after(async () => {
    for (const tv of vaults) {
      await killDaemonsUnder(tv.base)
      tv.dispose()
    }
    await up?.close()
  })

  it('storing the secret waits for a tenant host (human, JSON, capability list, providers show), and credential update completes it', async () => {
    const tv = fresh()
    const show = () => parseJson(tv.run(['providers', 'show', 'shopify', '--json']))
    assert.deepEqual(show().setup, ['aivault secrets create --name SHOPIFY_ACCESS_TOKEN --value-stdin', COMPLETE])
    assert.match(tv.ok(['providers', 'show', 'shopify']), /\nEnable:\n {2}aivault secrets create --name SHOPIFY_ACCESS_TOKEN --value-stdin\n {2}aivault credential update shopify --host <tenant>\.myshopify\.com\n/)

    const human = tv.ok(['secrets', 'create', '--name', 'SHOPIFY_ACCESS_TOKEN', '--value-stdin'], {input: TOKEN})
    assert.equal(human, `Secret created: SHOPIFY_ACCESS_TOKEN (pinned to provider: shopify)\nWaiting for a tenant host to complete shopify credential\nRun: ${COMPLETE}\n`)
    const scoped = parseJson(tv.run(['secrets', 'create', '--name', 'SHOPIFY_ACCESS_TOKEN', '--value-stdin', '--workspace-id', 'w', '--json'], {input: TOKEN}))
    assert.deepEqual(scoped.waitingFor, ['tenant host'])
    assert.equal(scoped.capabilitiesEnabled, 0)
    assert.equal(scoped.completeWith, 'aivault credential update shopify:ws:w --host <tenant>.myshopify.com')
    assert.equal(scoped.credential.id, 'shopify:ws:w')

    const listing = parseJson(tv.run(['capability', 'list', '--provider', 'shopify', '--json']))
    assert.deepEqual(listing.ready, [])
    assert.deepEqual(listing.waiting.map((c: any) => [c.id, c.credential, c.setup]), [['shopify/admin', 'shopify', [COMPLETE]]])
    assert.match(tv.ok(['capability', 'list', '--provider', 'shopify']), /Waiting for a tenant host \(1 capability\):\n {2}shopify \(1 capability\): admin\n {4}complete: aivault credential update shopify --host <tenant>\.myshopify\.com/)
    assert.equal(show().state, 'waiting')
    assert.deepEqual(show().setup, [COMPLETE, 'aivault credential update shopify:ws:w --host <tenant>.myshopify.com'])
    const before = up.requests.length
    expectJsonError(await invoke(tv), 1, 'policy_violation')
    assert.equal(up.requests.length, before)

    // The hinted command, with the tenant filled in.
    const completed = tv.ok(['credential', 'update', 'shopify', '--host', STORE])
    assert.match(completed, /^Credential updated: shopify \(provider shopify, header auth, hosts my-store\.myshopify\.com\)\n$/)
    assert.deepEqual(parseJson(tv.run(['capability', 'list', '--provider', 'shopify', '--json'])).ready, [{id: 'shopify/admin', provider: 'shopify', credential: 'shopify'}])
    assert.equal(show().state, 'ready')
    const ok = await invoke(tv)
    assert.equal(ok.status, 0, ok.stdout + ok.stderr)
    assert.equal(up.last()?.servername, STORE)
    assert.equal(up.last()?.headers['x-shopify-access-token'], TOKEN)
    const kinds = auditEvents(tv).map((e) => e.kind)
    assert.ok(kinds.includes('secret.bind_tenant') && kinds.includes('credential.update'), kinds.join(' '))
    assert.match(tv.ok(['credential', 'update', 'shopify', '--host', STORE]), /^Credential unchanged: shopify /)
    // Rotating keeps the binding (the new value is sealed to the same tenant).
    tv.ok(['secrets', 'rotate', '--name', 'SHOPIFY_ACCESS_TOKEN', '--scope', 'global', '--value-stdin'], {input: TOKEN_V2})
    const rotated = await invoke(tv)
    assert.equal(rotated.status, 0, rotated.stdout + rotated.stderr)
    assert.equal(up.last()?.headers['x-shopify-access-token'], TOKEN_V2)
  })

  it('a bound key is refused for another tenant: a new credential, an update, an edited credential or secret record', async () => {
    const {tv, secretId} = boundVault()
    expectJsonError(tv.run(['credential', 'create', 'evil', '--provider', 'shopify', '--host', EVIL, '--secret-ref', `vault:secret:${secretId}`, '--json']), 1, 'policy_violation')
    assert.deepEqual(parseJson(tv.run(['credential', 'list', '--json'])).credentials.map((c: any) => c.id), ['shopify'])
    expectJsonError(tv.run(['credential', 'update', 'shopify', '--host', EVIL, '--json']), 1, 'policy_violation')
    expectJsonError(tv.run(['credential', 'update', 'shopify', '--host', STORE, '--host', EVIL, '--json']), 1, 'policy_violation')

    // The credential record edited to name another store: refused in-process and through the daemon.
    replaceIn(credentialFile(tv), STORE, EVIL)
    expectJsonError(await invoke(tv), 1, 'policy_violation')
    expectJsonError(await invoke(tv, {...resolveEnv(up), AIVAULTD_AUTOSTART: '1'}), 1, 'policy_violation')
    await tv.runAsync(['daemon', 'stop'])
    const doctor = parseJson(tv.run(['doctor', '--json']))
    assert.ok(doctor.findings.some((f: any) => f.check === 'hosts' && f.file === 'credentials/shopify.yaml' && /bound to tenant host my-store/.test(f.problem)), JSON.stringify(doctor.findings))

    // ... and the secret record edited to match: its sealed value no longer opens.
    const secretFile = path.join(tv.root, 'secrets', `${secretId}.yaml`)
    replaceIn(secretFile, `tenantHost: ${STORE}`, `tenantHost: ${EVIL}`)
    expectJsonError(await invoke(tv), 1, 'vault_tampered')
    // ... or with the binding removed: an unbound key never goes to a tenant host.
    replaceIn(secretFile, `tenantHost: ${EVIL}\n`, '')
    expectJsonError(await invoke(tv), 1, 'policy_violation')
    assert.deepEqual(reached(up, EVIL), [], 'the token went to another store')
  })

  it('a waiting credential edited on disk to name a tenant sends nothing; doctor says how to bind it', async () => {
    const tv = fresh()
    tv.createSecret('SHOPIFY_ACCESS_TOKEN', TOKEN)
    replaceIn(credentialFile(tv), 'hosts: []', `hosts:\n- ${EVIL}`)
    const refused = expectJsonError(await invoke(tv), 1, 'policy_violation')
    assert.match(refused.message, /not bound/)
    assert.deepEqual(reached(up, EVIL), [], 'the token went to a store named only by an edited file')
    const findings = parseJson(tv.run(['doctor', '--json'])).findings
    assert.ok(findings.some((f: any) => f.check === 'hosts' && /aivault credential update shopify --host evil-store/.test(f.problem)), JSON.stringify(findings))
  })

  it('a credential for another tenant is refused while one using the same (not yet bound) secret names a tenant', async () => {
    const tv = fresh()
    const secretId = tv.createSecret('MY_SHOP_TOKEN', TOKEN)
    tv.ok(['credential', 'create', 'shop-a', '--provider', 'shopify', '--secret-ref', `vault:secret:${secretId}`])
    // A vault from before bindings existed: the credential names its store, the secret is unbound.
    replaceIn(credentialFile(tv, 'shop-a'), 'hosts: []', `hosts:\n- ${STORE}`)
    const refused = expectJsonError(tv.run(['credential', 'create', 'shop-b', '--provider', 'shopify', '--host', EVIL, '--secret-ref', `vault:secret:${secretId}`, '--json']), 1, 'policy_violation')
    assert.match(refused.message, /shop-a/)
    // Binding it to the store it already names is the way forward.
    tv.ok(['credential', 'update', 'shop-a', '--host', STORE])
    const ok = await invoke(tv)
    assert.equal(ok.status, 0, ok.stdout + ok.stderr)
    assert.equal(up.last()?.servername, STORE)
  })

  it('binds every secret of a multi-secret provider (jira), and a custom credential cannot take a bound key', () => {
    const tv = fresh()
    tv.createSecret('JIRA_EMAIL', 'me@example.com')
    const created = parseJson(tv.run(['secrets', 'create', '--name', 'JIRA_API_TOKEN', '--value-stdin', '--json'], {input: 'jira-token-0123456789'}))
    assert.deepEqual(created.waitingFor, ['tenant host'])
    tv.ok(['credential', 'update', 'jira', '--host', 'acme.atlassian.net'])
    const secrets = parseJson(tv.run(['secrets', 'list', '--json'])).secrets
    assert.deepEqual(secrets.map((s: any) => s.tenantHost), ['acme.atlassian.net', 'acme.atlassian.net'])
    const unpinned = tv.createSecret('SHOP_KEY', TOKEN)
    tv.ok(['credential', 'create', 'shop', '--provider', 'shopify', '--host', STORE, '--secret-ref', `vault:secret:${unpinned}`])
    expectJsonError(tv.run(['credential', 'create', 'mine', '--provider', 'mine', '--auth', 'header', '--host', 'api.example.com', '--secret-ref', `vault:secret:${unpinned}`, '--json']), 1, 'policy_violation')
  })

  it('binds through aivaultd in a passphrase vault (the CLI process never holds the key)', async () => {
    const tv = new TempVault()
    vaults.push(tv)
    // Through the daemon: the fixture's default runs the broker in-process.
    delete tv.env.AIVAULTD_DISABLE
    const passFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-pass-')), 'pass')
    fs.writeFileSync(passFile, `tenant-pass-${randomBytes(8).toString('hex')}\n`, {mode: 0o600})
    try {
      const daemonEnv = {...resolveEnv(up), AIVAULTD_AUTOSTART: '1'}
      tv.ok(['init', '--provider', 'passphrase', '--passphrase-file', passFile, '--testing'])
      const unlocked = await tv.runAsync(['unlock', '--passphrase-file', passFile], {env: daemonEnv})
      assert.equal(unlocked.status, 0, unlocked.stderr)
      tv.createSecret('SHOPIFY_ACCESS_TOKEN', TOKEN)
      const updated = tv.run(['credential', 'update', 'shopify', '--host', STORE])
      assert.equal(updated.status, 0, updated.stdout + updated.stderr)
      const ok = await invoke(tv, {...resolveEnv(up), AIVAULTD_AUTOSTART: '0'})
      assert.equal(ok.status, 0, ok.stdout + ok.stderr)
      assert.equal(up.last()?.servername, STORE)
      assert.equal(up.last()?.headers['x-shopify-access-token'], TOKEN)
      // Rotating through the daemon seals the new value to the same tenant.
      tv.ok(['secrets', 'rotate', '--name', 'SHOPIFY_ACCESS_TOKEN', '--value-stdin'], {input: TOKEN_V2})
      const rotated = await invoke(tv, {...resolveEnv(up), AIVAULTD_AUTOSTART: '0'})
      assert.equal(rotated.status, 0, rotated.stdout + rotated.stderr)
      assert.equal(up.last()?.headers['x-shopify-access-token'], TOKEN_V2)
      await tv.runAsync(['daemon', 'stop'])
    } finally {
      fs.rmSync(path.dirname(passFile), {recursive: true, force: true})
    }
  })
})

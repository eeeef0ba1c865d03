/**
 * Issue 12, items 5, 25, 26: keys reach only the hosts they were meant for, and credential
 * selection follows SPEC §6. A registry provider uses the registry's hosts whatever its record
 * on disk says (§4, §5); `capability create --host` takes valid hosts only (§6); `--credential`
 * lends a capability its provider and hosts without tying it to that credential; a binding made
 * with `--secret-ref` selects the credential that uses the secret.
 */
import * as assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {TempVault, expectJsonError, killDaemonsUnder, parseJson} from './fixture'
import {reached, resolveEnv, startUpstream, type Upstream} from './upstream'

const OPENAI_KEY = 'sk-hardening-hosts-OPENAI-0123456789'
const KEY_A = 'custom-hardening-A-0123456789'
const KEY_B = 'custom-hardening-B-0123456789'
const KEY_C = 'custom-hardening-C-0123456789'
const TEAM_KEY = 'sk-hardening-hosts-TEAM-0123456789'

describe('e2e hardening: hosts and credential selection (issue 12 items 5, 25, 26)', function () {
  this.timeout(120_000)
  let up: Upstream
  const vaults: TempVault[] = []
  const fresh = (testing = true): TempVault => {
    const tv = new TempVault()
    vaults.push(tv)
    if (testing) tv.ok(['init', '--testing'])
    return tv
  }
  /** In-process broker (no daemon) with the local upstream standing in for every test host. */
  const inProcess = () => ({...resolveEnv(up), AIVAULTD_DISABLE: '1'})

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

  describe('item 5: a registry credential record edited on disk', () => {
    it('never sends the key to a host outside the registry, on any path, and doctor reports it', async () => {
      const tv = fresh()
      tv.createSecret('OPENAI_API_KEY', OPENAI_KEY)
      const record = path.join(tv.root, 'credentials', 'openai.yaml')
      fs.writeFileSync(record, fs.readFileSync(record, 'utf8').replace('hosts: []', 'hosts:\n- evil.example.com'))

      // The capability that would pair with it is refused at create ...
      expectJsonError(tv.run(['capability', 'create', 'leak/x', '--provider', 'openai', '--host', 'evil.example.com', '--method', 'GET', '--path', '/', '--json']), 1, 'policy_violation')
      // ... and one edited on disk afterwards reaches nothing.
      tv.ok(['capability', 'create', 'leak/x', '--provider', 'openai', '--method', 'GET', '--path', '/'])
      const [capabilityFile] = fs.readdirSync(path.join(tv.root, 'capabilities'))
      const capabilityPath = path.join(tv.root, 'capabilities', capabilityFile)
      fs.writeFileSync(capabilityPath, fs.readFileSync(capabilityPath, 'utf8').replace('api.openai.com', 'evil.example.com'))

      const refused = await tv.runAsync(['invoke', 'leak/x', '--path', '/v1/models', '--json'], {env: inProcess()})
      expectJsonError(refused, 1, 'policy_violation')
      const viaDaemon = await tv.runAsync(['invoke', 'leak/x', '--path', '/v1/models', '--json'], {env: {...resolveEnv(up), AIVAULTD_AUTOSTART: '1'}})
      expectJsonError(viaDaemon, 1, 'policy_violation')
      assert.deepEqual(reached(up, 'evil.example.com'), [], 'the OpenAI key went to evil.example.com')

      // The registry's own host still works with the same record.
      const ok = await tv.runAsync(['invoke', 'openai/models', '--json'], {env: inProcess()})
      assert.equal(ok.status, 0, ok.stdout + ok.stderr)
      assert.equal(up.last()?.servername, 'api.openai.com')
      assert.equal(up.last()?.headers.authorization, `Bearer ${OPENAI_KEY}`)
      assert.deepEqual(parseJson(tv.run(['credential', 'list', '--json'])).credentials[0].hosts, ['api.openai.com'])

      const doctor = tv.run(['doctor', '--json'])
      assert.equal(doctor.status, 1, doctor.stdout)
      const findings = parseJson(doctor).findings as Array<{check: string; file?: string; problem: string; code?: string}>
      const tampered = findings.find((f) => f.check === 'hosts' && f.file === 'credentials/openai.yaml')
      assert.ok(tampered && tampered.code === 'vault_tampered' && /evil\.example\.com/.test(tampered.problem), JSON.stringify(findings))
      assert.ok(findings.some((f) => f.check === 'hosts' && f.file === `capabilities/${capabilityFile}` && /evil\.example\.com/.test(f.problem)), JSON.stringify(findings))
      await tv.runAsync(['daemon', 'stop'])
    })

    it('capability create --host takes a DNS name or pattern, an IP literal only in a testing vault, and the registry provider\'s hosts', () => {
      const real = fresh(false)
      const create = (tv: TempVault, id: string, args: string[]) => tv.run(['capability', 'create', id, '--method', 'GET', '--path', '/v1', ...args, '--json'])
      for (const host of ['*', 'not a host!!', '[::1]:22', 'api.example.com:8443', '*.com', 'a..b']) {
        expectJsonError(create(real, 'mine/bad', ['--provider', 'mine', '--host', host]), 2, 'invalid_request')
      }
      for (const host of ['[::1]', '127.0.0.1', '10.0.0.1']) {
        expectJsonError(create(real, 'mine/ip', ['--provider', 'mine', '--host', host]), 1, 'policy_violation')
      }
      expectJsonError(create(real, 'openai/elsewhere', ['--provider', 'openai', '--host', 'api.example.com']), 1, 'policy_violation')
      expectJsonError(create(real, 'shopify/elsewhere', ['--provider', 'shopify', '--host', 'shop.example.com']), 1, 'policy_violation')
      assert.deepEqual(parseJson(create(real, 'shopify/pattern', ['--provider', 'shopify', '--host', '*.myshopify.com'])).allow.hosts, ['*.myshopify.com'])
      assert.deepEqual(parseJson(create(real, 'shopify/store', ['--provider', 'shopify', '--host', 'My-Store.myshopify.com'])).allow.hosts, ['my-store.myshopify.com'])
      assert.deepEqual(parseJson(create(real, 'mine/x', ['--provider', 'mine', '--host', 'api.example.com'])).allow.hosts, ['api.example.com'])
      assert.equal(fs.readdirSync(path.join(real.root, 'capabilities')).length, 3, 'a refused capability was written')

      const testing = fresh()
      assert.deepEqual(parseJson(create(testing, 'mine/ip4', ['--provider', 'mine', '--host', '127.0.0.1'])).allow.hosts, ['127.0.0.1'])
      assert.deepEqual(parseJson(create(testing, 'mine/ip6', ['--provider', 'mine', '--host', '[::1]'])).allow.hosts, ['[::1]'])

      // A capability record edited to a lone wildcard is reported.
      const file = fs.readdirSync(path.join(real.root, 'capabilities')).find((f) => f.startsWith('mine'))!
      const full = path.join(real.root, 'capabilities', file)
      fs.writeFileSync(full, fs.readFileSync(full, 'utf8').replace('api.example.com', "'*'"))
      const doctor = real.run(['doctor', '--json'])
      assert.equal(doctor.status, 1, doctor.stdout)
      const findings = parseJson(doctor).findings as Array<{check: string; file?: string; problem: string}>
      assert.ok(findings.some((f) => f.check === 'hosts' && f.file === `capabilities/${file}` && /wildcard/.test(f.problem)), JSON.stringify(findings))
    })
  })

  describe('item 25: capability create --credential', () => {
    it('takes provider and hosts from the credential, and every credential of that provider can serve it', async () => {
      const tv = fresh()
      const [a, b, c] = [tv.createSecret('CUSTOM_A', KEY_A), tv.createSecret('CUSTOM_B', KEY_B), tv.createSecret('CUSTOM_C', KEY_C)]
      const auth = ['--provider', 'cust', '--auth', 'header', '--header-name', 'x-api-key', '--value-template', '{{secret}}', '--host', 'api.example.com']
      tv.ok(['credential', 'create', 'cust-a', ...auth, '--secret-ref', `vault:secret:${a}`])
      tv.ok(['credential', 'create', 'cust-b', ...auth, '--secret-ref', `vault:secret:${b}`, '--workspace-id', 'team'])
      tv.ok(['credential', 'create', 'cust-c', ...auth, '--secret-ref', `vault:secret:${c}`])
      const created = parseJson(tv.run(['capability', 'create', 'cust/items', '--credential', 'cust-a', '--method', 'GET', '--path', '/v1', '--json']))
      assert.equal(created.provider, 'cust')
      assert.deepEqual(created.allow.hosts, ['api.example.com'])
      assert.equal(created.credential, null, 'the capability is tied to the credential it was created from')

      const call = async (extra: string[]) => {
        const result = await tv.runAsync(['invoke', 'cust/items', '--path', '/v1/x', '--json', ...extra], {env: inProcess()})
        assert.equal(result.status, 0, `${extra.join(' ')}: ${result.stdout}${result.stderr}`)
        return {credential: parseJson(result).planned.credential, key: up.last()?.headers['x-api-key']}
      }
      assert.deepEqual(await call(['--credential', 'cust-c']), {credential: 'cust-c', key: KEY_C})
      assert.deepEqual(await call(['--workspace-id', 'team']), {credential: 'cust-b', key: KEY_B}, 'the workspace credential is the most specific')
      assert.deepEqual(await call(['--credential', 'cust-b', '--workspace-id', 'team']), {credential: 'cust-b', key: KEY_B})
      tv.ok(['capability', 'bind', '--capability', 'cust/items', '--credential', 'cust-c'])
      assert.deepEqual(await call([]), {credential: 'cust-c', key: KEY_C}, 'a binding chooses among them')
    })
  })

  describe('item 26: a binding made with --secret-ref', () => {
    it('selects the credential that uses the secret; among several, the scope order decides', async () => {
      const tv = fresh()
      tv.createSecret('OPENAI_API_KEY', OPENAI_KEY)
      const team = tv.createSecret('TEAM_OPENAI', TEAM_KEY)
      tv.ok(['credential', 'create', 'openai-team', '--provider', 'openai', '--secret-ref', `vault:secret:${team}`])
      const call = (extra: string[] = []) => tv.runAsync(['invoke', 'openai/models', '--json', ...extra], {env: inProcess()})
      expectJsonError(await call(), 1, 'credential_ambiguous')

      tv.ok(['capability', 'bind', '--capability', 'openai/models', '--secret-ref', `vault:secret:${team}`])
      const bound = await call()
      assert.equal(bound.status, 0, bound.stdout + bound.stderr)
      assert.equal(parseJson(bound).planned.credential, 'openai-team')
      assert.equal(up.last()?.headers.authorization, `Bearer ${TEAM_KEY}`)

      // A workspace credential using the same secret is more specific for that workspace only.
      tv.ok(['credential', 'create', 'openai-team-ws', '--provider', 'openai', '--secret-ref', `vault:secret:${team}`, '--workspace-id', 'w'])
      assert.equal(parseJson(await call(['--workspace-id', 'w'])).planned.credential, 'openai-team-ws')
      assert.equal(parseJson(await call()).planned.credential, 'openai-team')
      // Two equally specific credentials using it: ambiguous among those two only.
      tv.ok(['credential', 'create', 'openai-team-2', '--provider', 'openai', '--secret-ref', `vault:secret:${team}`])
      const ambiguous = expectJsonError(await call(), 1, 'credential_ambiguous')
      assert.match(ambiguous.message, /openai-team, openai-team-2$/)
    })
  })
})

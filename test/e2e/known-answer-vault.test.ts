/**
 * Issue 13 part 5: the on-disk format frozen by known-answer vaults. test/fixtures/vault-v<format>/
 * holds one vault per scriptable key provider, written by an earlier build with every record
 * kind (see make-kat-vault.ts, which this test never runs). Every later build must open every
 * record, list the known metadata, inject the known values, verify the audit chain and leave
 * every byte in place on a no-op rewrite. A failure here means the format changed: bump
 * `format` (src/vault/config.ts), add a migration with its own test, and regenerate.
 */
import * as assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {parseCanonical} from '../../src/vault/store/canonical-yaml'
import {fromYaml, toYaml} from '../../src/vault/store/yaml-codec'
import {KAT_DIR, KAT_PROVIDERS, KAT_VALUES, type KatProvider} from '../fixtures/make-kat-vault'
import {TempVault, killDaemonsUnder, parseJson} from './fixture'
import {resolveEnv, startUpstream, type RecordedRequest, type Upstream} from './upstream'

/** Copy a fixture folder with the modes git does not keep: 0700 folders, 0600 files. */
function copyPrivate(from: string, to: string): void {
  fs.mkdirSync(to, {recursive: true, mode: 0o700})
  fs.chmodSync(to, 0o700)
  if (!fs.existsSync(from)) return // git keeps no empty folder (the env and passphrase fixtures' keys/)
  for (const entry of fs.readdirSync(from, {withFileTypes: true})) {
    const source = path.join(from, entry.name)
    const target = path.join(to, entry.name)
    if (entry.isDirectory()) copyPrivate(source, target)
    else {
      fs.copyFileSync(source, target)
      fs.chmodSync(target, 0o600)
    }
  }
}

/** Every file's bytes under a folder by relative path, leaving out machine-local run/. */
function filesUnder(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, {withFileTypes: true})) {
      const full = path.join(dir, entry.name)
      const rel = path.relative(root, full)
      if (rel === 'run') continue
      if (entry.isDirectory()) walk(full)
      else out.set(rel, fs.readFileSync(full))
    }
  }
  walk(root)
  return out
}

interface Expected {
  secrets: Array<{id: string; name: string; aliases: string[]; attachedGroups: Array<{workspaceId: string; groupId: string}>}>
  credentials: unknown
  bindings: unknown
}

/** The known value each capability must carry upstream, and where the request puts it. */
const INVOCATIONS: Array<{capability: string; path: string; host: string; carried: (req: RecordedRequest) => string[]; values: string[]}> = [
  {capability: 'openai/models', path: '/v1/models', host: 'api.openai.com', carried: (r) => [r.headers.authorization], values: [`Bearer ${KAT_VALUES.OPENAI_API_KEY}`]},
  {
    capability: 'trello/actions', path: '/1/actions/kat', host: 'api.trello.com',
    carried: (r) => ['key', 'token'].map((name) => r.query.find(([k]) => k === name)?.[1] ?? ''), values: [KAT_VALUES.TRELLO_API_KEY, KAT_VALUES.TRELLO_TOKEN],
  },
  {
    capability: 'shopify/admin', path: '/admin/api/2024-01/shop.json', host: 'my-store.myshopify.com',
    carried: (r) => [r.headers['x-shopify-access-token']], values: [KAT_VALUES.SHOPIFY_ACCESS_TOKEN],
  },
  {capability: 'kat-api/read', path: '/v1/items', host: 'api.example.com', carried: (r) => [r.headers['x-api-key']], values: [KAT_VALUES.KAT_API_TOKEN]},
]

describe('e2e known-answer vaults: the on-disk format (issue 13 part 5)', function () {
  this.timeout(180_000)
  let up: Upstream

  before(async () => {
    up = await startUpstream()
  })

  after(async () => {
    await up?.close()
  })

  it(`has a fixture for the current format (${path.basename(KAT_DIR)}) and every scriptable key provider`, () => {
    for (const provider of KAT_PROVIDERS) assert.ok(fs.existsSync(path.join(KAT_DIR, provider, 'vault', 'vault.yaml')), `no ${provider} fixture vault`)
  })

  for (const provider of KAT_PROVIDERS) describeFixture(provider)

  function describeFixture(provider: KatProvider): void {
    describe(`the ${provider} key provider`, () => {
      const fixture = path.join(KAT_DIR, provider)
      const fixtureVault = path.join(fixture, 'vault')
      const expected = JSON.parse(fs.readFileSync(path.join(fixture, 'expected.json'), 'utf8')) as Expected
      let tv: TempVault

      before(async () => {
        tv = new TempVault()
        copyPrivate(fixtureVault, tv.root)
        copyPrivate(path.join(fixture, 'keys'), tv.keysDir)
        Object.assign(tv.env, resolveEnv(up))
        if (provider === 'env') tv.env.AIVAULT_KEY = fs.readFileSync(path.join(fixture, 'env-key.txt'), 'utf8').trim()
        if (provider === 'passphrase') {
          // A passphrase vault opens only through aivaultd; it inherits the test overrides above.
          delete tv.env.AIVAULTD_DISABLE
          tv.env.AIVAULTD_AUTOSTART = '1'
          const passFile = path.join(tv.base, 'passphrase.txt')
          fs.copyFileSync(path.join(fixture, 'passphrase.txt'), passFile)
          fs.chmodSync(passFile, 0o600)
          tv.ok(['unlock', '--passphrase-file', passFile])
        }
      })

      after(async () => {
        if (!tv) return
        if (provider === 'passphrase') await tv.runAsync(['daemon', 'stop'])
        await killDaemonsUnder(tv.base)
        tv.dispose()
      })

      it('leaves every file byte-identical on a no-op rewrite (same aliases, an attached group attached again)', () => {
        for (const secret of expected.secrets) {
          if (secret.aliases.length > 0) tv.ok(['secrets', 'update', '--id', secret.id, ...secret.aliases.flatMap((a) => ['--alias', a])])
          for (const group of secret.attachedGroups) tv.ok(['secrets', 'attach-group', '--id', secret.id, '--workspace-id', group.workspaceId, '--group-id', group.groupId])
        }
        assert.ok(expected.secrets.some((s) => s.attachedGroups.length > 0 && s.aliases.length > 0), 'the fixture has aliases and an attached group')
        const before = filesUnder(fixtureVault)
        const after = filesUnder(tv.root)
        assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort())
        for (const [rel, bytes] of before) {
          // Unlocking a passphrase vault appends to the audit log (and so moves its head):
          // what was written stays as it was.
          const now = after.get(rel)!
          if (provider === 'passphrase' && rel === 'audit/head') continue
          if (provider === 'passphrase' && rel.startsWith('audit/')) assert.ok(now.subarray(0, bytes.length).equals(bytes), `${rel} was rewritten`)
          else assert.ok(now.equals(bytes), `${rel} changed on a no-op rewrite`)
        }
      })

      it('reads every committed record on the canonical fast path and writes it back to the same bytes', () => {
        const records = [...filesUnder(fixtureVault)].filter(([rel]) => rel.endsWith('.yaml'))
        assert.ok(records.length >= 15, `${records.length} records`)
        for (const [rel, bytes] of records) {
          const text = bytes.toString('utf8')
          assert.notEqual(parseCanonical(text), undefined, `${rel} is not canonical YAML`)
          assert.equal(toYaml(fromYaml(text) as Record<string, unknown>), text, `${rel} is written differently today`)
        }
      })

      it('opens every record (doctor) and lists the known metadata', () => {
        const doctor = parseJson(tv.run(['doctor', '--json']))
        assert.equal(doctor.ok, true)
        assert.equal(doctor.checked.secrets, expected.secrets.length)
        if (provider === 'passphrase') {
          // doctor opens records in its own process, which holds no passphrase (aivaultd does):
          // it says so, and the invocations below open this vault's records through the daemon.
          assert.deepEqual(doctor.findings.map((f: {code: string; warning: boolean}) => [f.code, f.warning]), [['vault_locked', true]])
        } else {
          assert.deepEqual(doctor.findings, [])
          assert.equal(doctor.checked.opened, expected.secrets.length)
        }
        assert.equal(expected.secrets.length, Object.keys(KAT_VALUES).length)
        assert.deepEqual(parseJson(tv.run(['secrets', 'list', '--json'])).secrets, expected.secrets)
        assert.deepEqual(parseJson(tv.run(['credential', 'list', '--json'])), expected.credentials)
        assert.deepEqual(parseJson(tv.run(['capability', 'bindings', '--json'])), expected.bindings)
      })

      it('injects the known value of every provider kind (pinned, multi-secret, per-tenant, custom) upstream', async () => {
        for (const call of INVOCATIONS) {
          up.reset()
          // Asynchronous: the upstream runs in this process.
          const result = await tv.runAsync(['invoke', call.capability, '--method', 'GET', '--path', call.path, '--json'])
          assert.equal(result.status, 0, `${call.capability}: ${result.stdout}${result.stderr}`)
          const reached = up.requests.filter((r) => r.servername === call.host)
          assert.equal(reached.length, 1, `${call.capability} reached ${call.host} once`)
          assert.deepEqual(call.carried(reached[0]), call.values, `${call.capability} carries the known value`)
        }
      })

      it('verifies its audit chain', () => {
        const verify = parseJson(tv.run(['audit', 'verify', '--json']))
        assert.equal(verify.ok, true, JSON.stringify(verify))
        assert.equal(verify.break, null)
        const committed = fs.readdirSync(path.join(fixtureVault, 'audit')).filter((f) => f.endsWith('.jsonl'))
        const committedEvents = committed.map((f) => fs.readFileSync(path.join(fixtureVault, 'audit', f), 'utf8').trim().split('\n').length).reduce((a, b) => a + b, 0)
        assert.ok(verify.events >= committedEvents + INVOCATIONS.length, `${verify.events} events`)
      })
    })
  }
})

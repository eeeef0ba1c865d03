/**
 * Team vaults in git with three identities (issue 15, SPEC §11): a member added by another
 * reads and invokes after `git pull`; a removed member opens nothing written after the
 * removal; a tampered recipients list fails closed; a non-recipient is refused with a clear
 * error. Real git (a bare origin in the temp folder), the built CLI, the local HTTPS upstream.
 */
import * as assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {TempVault, expectJsonError, parseJson} from './fixture'
import type {Member} from './recipients-helpers'
import {clone, git, member, publish, pull, push} from './recipients-helpers'
import {resolveEnv, startUpstream, type Upstream} from './upstream'

const KEY_A = 'sk-team-alice-0123456789abcdef'
const KEY_A2 = 'sk-team-alice-after-removal-0123456789'
const GITHUB = 'ghp_team_bob_0123456789abcdef'

describe('e2e team vaults in git: three identities (issue 15, SPEC §11)', function () {
  this.timeout(180_000)
  let up: Upstream
  let overrides: Record<string, string>
  let tv: TempVault
  let alice: Member, bob: Member, carol: Member

  before(async () => {
    up = await startUpstream()
    overrides = resolveEnv(up)
  })
  after(async () => {
    await up?.close()
  })
  beforeEach(() => {
    up.reset()
    tv = new TempVault()
    alice = member(tv, 'alice', path.join(tv.base, 'alice'), overrides)
    bob = member(tv, 'bob', path.join(tv.base, 'bob'), overrides)
    carol = member(tv, 'carol', path.join(tv.base, 'carol'), overrides)
    alice.ok(['init', '--provider', 'recipients', '--name', 'alice', '--testing'])
    alice.ok(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin'], KEY_A)
    const origin = publish(tv, alice.root)
    clone(tv, origin, bob.root)
    clone(tv, origin, carol.root)
  })
  afterEach(() => tv.dispose())

  const invokeOpenai = (m: Member) => m.runAsync(['invoke', 'openai/models', '--json'])
  const invokeGithub = (m: Member) => m.runAsync(['invoke', 'github/gists', '--method', 'GET', '--path', '/gists', '--json'])
  const authorization = () => up.last()?.headers.authorization

  it('a non-recipient is refused with their fingerprint, the recipients and how to be added; nothing is sent', async () => {
    const refused = expectJsonError(await invokeOpenai(bob), 1, 'vault_locked')
    assert.ok(refused.message.includes(bob.fingerprint), refused.message)
    assert.match(refused.message, /is not a recipient of this vault \(recipients: alice\)/)
    const hint = parseJson(bob.run(['secrets', 'create', '--name', 'X_TOKEN', '--value', 'x', '--json'])).error.hint as string
    assert.ok(hint.includes(`recipients add --name <you> --public-key ${bob.publicKey}`), hint)
    assert.equal(up.requests.length, 0)
    // Readable to anyone with the repository: who the recipients are (unverified for bob).
    const list = bob.json(['recipients', 'list'])
    assert.equal(list.verified, false)
    assert.deepEqual(list.recipients.map((r: any) => [r.name, r.fingerprint, r.you]), [['alice', alice.fingerprint, false]])
    assert.deepEqual(alice.json(['recipients', 'list']).recipients.map((r: any) => [r.name, r.you]), [['alice', true]])
  })

  it('a member added by another reads and invokes after git pull; a removed member opens nothing written after the removal', async () => {
    // alice adds bob; bob pulls and invokes with alice's secret.
    const added = alice.json(['recipients', 'add', '--name', 'bob', '--public-key', bob.publicKey])
    assert.deepEqual(added.recipient, {name: 'bob', publicKey: bob.publicKey, fingerprint: bob.fingerprint})
    push(tv, alice.root, 'add bob')
    pull(tv, bob.root)
    const byBob = await invokeOpenai(bob)
    assert.equal(byBob.status, 0, byBob.stdout + byBob.stderr)
    assert.equal(authorization(), `Bearer ${KEY_A}`)

    // bob (added by alice) adds carol and a secret of his own.
    bob.ok(['recipients', 'add', '--name', 'carol', '--public-key', carol.publicKey])
    bob.ok(['secrets', 'create', '--name', 'GITHUB_TOKEN', '--value-stdin'], GITHUB)
    push(tv, bob.root, 'add carol and github')
    pull(tv, carol.root)
    pull(tv, alice.root)
    for (const m of [carol, alice]) {
      const openai = await invokeOpenai(m)
      assert.equal(openai.status, 0, `${m.name}: ${openai.stdout}${openai.stderr}`)
      assert.equal(authorization(), `Bearer ${KEY_A}`)
      const github = await invokeGithub(m)
      assert.equal(github.status, 0, `${m.name}: ${github.stdout}${github.stderr}`)
      assert.equal(authorization(), `Bearer ${GITHUB}`)
    }
    assert.deepEqual(alice.json(['recipients', 'list']).recipients.map((r: any) => r.name), ['alice', 'bob', 'carol'])

    // alice removes carol: a new master key, and the list of what carol could read.
    const carolsVaultYaml = fs.readFileSync(path.join(carol.root, 'vault.yaml'))
    const removed = alice.json(['recipients', 'remove', '--name', 'carol'])
    assert.equal(removed.recipient.fingerprint, carol.fingerprint)
    assert.notEqual(removed.kekId, removed.previousKekId)
    assert.equal(removed.rewrapped, 2)
    assert.deepEqual(removed.rotateUpstream.credentials.map((c: any) => [c.id, c.provider, c.secrets]), [
      ['github', 'github', ['GITHUB_TOKEN']],
      ['openai', 'openai', ['OPENAI_API_KEY']],
    ])
    alice.ok(['secrets', 'rotate', '--name', 'OPENAI_API_KEY', '--value-stdin'], KEY_A2)
    alice.ok(['secrets', 'create', '--name', 'LATER_TOKEN', '--value', 'written-after-carol-left'])
    push(tv, alice.root, 'remove carol, rotate openai')

    pull(tv, carol.root)
    up.reset()
    const refused = expectJsonError(await invokeOpenai(carol), 1, 'vault_locked')
    assert.ok(refused.message.includes(carol.fingerprint), refused.message)
    // Even with the vault.yaml she could open (the old key), nothing written since opens.
    fs.writeFileSync(path.join(carol.root, 'vault.yaml'), carolsVaultYaml)
    for (const result of [await invokeOpenai(carol), await invokeGithub(carol)]) {
      const error = expectJsonError(result, 1, 'vault_tampered')
      assert.match(error.message, /^secrets\/[0-9a-f-]{36}\.yaml: .*which this vault does not hold/)
    }
    const doctor = parseJson(carol.run(['doctor', '--json']))
    assert.equal(doctor.checked.secrets, 3)
    assert.equal(doctor.checked.opened, 0, 'carol opened a record written after her removal')
    assert.equal(up.requests.length, 0)
    git(tv, carol.root, ['checkout', '--', 'vault.yaml'])

    // bob, still a recipient, opens everything after pulling.
    pull(tv, bob.root)
    const after = await invokeOpenai(bob)
    assert.equal(after.status, 0, after.stdout + after.stderr)
    assert.equal(authorization(), `Bearer ${KEY_A2}`)
    assert.equal(parseJson(bob.run(['doctor', '--json'])).checked.opened, 3)
  })

  it('a recipients list tampered in git (edited, added, removed entry, swapped key) fails closed with vault_tampered', async () => {
    alice.ok(['recipients', 'add', '--name', 'bob', '--public-key', bob.publicKey])
    push(tv, alice.root, 'add bob')
    pull(tv, carol.root)
    const file = path.join(carol.root, 'vault.yaml')
    const original = fs.readFileSync(file, 'utf8')
    // carol has write access to the repository but is no recipient: she edits vault.yaml.
    const sealedForCarol = Buffer.alloc(80, 1).toString('base64')
    const bobEntry = / {2}- name: bob\n {4}publicKey: .*\n {4}sealedKek: .*\n/.exec(original)![0]
    const variants: Array<[string, string]> = [
      ['edited name', original.replace('name: bob', 'name: bobby')],
      ['added entry', original.replace(/( {2}- name: bob\n)/, `  - name: carol\n    publicKey: "${carol.publicKey}"\n    sealedKek: "${sealedForCarol}"\n$1`)],
      ['removed entry', original.replace(bobEntry, '')],
      ['swapped key', original.replace(`publicKey: "${bob.publicKey}"`, `publicKey: "${carol.publicKey}"`)],
    ]
    for (const [label, text] of variants) {
      assert.notEqual(text, original, label)
      fs.writeFileSync(file, text)
      push(tv, carol.root, `tamper: ${label}`)
      pull(tv, alice.root)
      up.reset()
      for (const args of [['invoke', 'openai/models'], ['recipients', 'list'], ['secrets', 'create', '--name', 'NEW_TOKEN', '--value', 'v']]) {
        const result = args[0] === 'invoke' ? await alice.runAsync([...args, '--json']) : alice.run([...args, '--json'])
        const error = expectJsonError(result, 1, 'vault_tampered')
        assert.match(error.message, /^vault\.yaml /, `${label}: ${args.join(' ')}`)
      }
      assert.equal(up.requests.length, 0, `${label}: a request went out`)
      assert.equal(alice.json(['secrets', 'list']).secrets.length, 1, `${label}: something was written`)
      fs.writeFileSync(file, original)
      push(tv, carol.root, `revert: ${label}`)
      pull(tv, alice.root)
    }
    const restored = await alice.runAsync(['invoke', 'openai/models', '--json'])
    assert.equal(restored.status, 0, restored.stdout + restored.stderr)
    assert.equal(authorization(), `Bearer ${KEY_A}`)
  })
})

/**
 * The key chain of a team vault in git (docs/decisions/013), with real git and three identities.
 * Someone who can push but holds no key replaces vault.yaml wholesale with a KEK of their own
 * sealed to every member and a valid MAC: each member's next command fails closed and seals
 * nothing. A legitimate `recipients remove` is followed after `git pull` with no extra step; a
 * clone two key changes behind is refused until `recipients accept-key` after review.
 */
import * as assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {readVaultConfig, signVaultConfig, writeVaultConfig} from '../../src/vault/config'
import {sealedRecipients} from '../../src/vault/keys/key-providers/recipients'
import {makeKek, randomKey} from '../../src/vault/keys/seal'
import {resolveVaultPaths} from '../../src/vault/store/paths'
import {TempVault, expectJsonError, parseJson} from './fixture'
import type {Member} from './recipients-helpers'
import {clone, git, member, publish, pull, push} from './recipients-helpers'

describe('e2e recipients key chain: a replaced vault.yaml fails closed (issue 15, decision 013)', function () {
  this.timeout(180_000)
  let tv: TempVault
  let alice: Member, bob: Member, carol: Member
  let outsider: string

  const secretFiles = (m: Member) => fs.readdirSync(path.join(m.root, 'secrets')).filter((f) => f.endsWith('.yaml')).sort()
  const opened = (m: Member) => parseJson(m.run(['doctor', '--json'])).checked.opened as number
  const kekIdOf = (m: Member) => fs.readFileSync(path.join(m.root, 'vault.yaml'), 'utf8').match(/^kekId: "?([0-9a-f]{16})"?$/m)![1]

  beforeEach(() => {
    tv = new TempVault()
    alice = member(tv, 'alice', path.join(tv.base, 'alice'))
    bob = member(tv, 'bob', path.join(tv.base, 'bob'))
    carol = member(tv, 'carol', path.join(tv.base, 'carol'))
    alice.ok(['init', '--provider', 'recipients', '--name', 'alice', '--testing'])
    alice.ok(['recipients', 'add', '--name', 'bob', '--public-key', bob.publicKey])
    alice.ok(['recipients', 'add', '--name', 'carol', '--public-key', carol.publicKey])
    alice.ok(['secrets', 'create', '--name', 'TEAM_TOKEN', '--value', 'team-token-value-0123'])
    const origin = publish(tv, alice.root)
    clone(tv, origin, bob.root)
    clone(tv, origin, carol.root)
    // An outsider with push access: a clone of their own, and no key.
    outsider = path.join(tv.base, 'outsider')
    clone(tv, origin, outsider)
    for (const m of [bob, carol]) assert.equal(opened(m), 1) // first open: each clone remembers the key
  })
  afterEach(() => tv.dispose())

  /** The outsider's vault.yaml: same vault id, a KEK of their own sealed to every member, a valid MAC under it. */
  async function replaceVaultYaml(): Promise<string> {
    const paths = resolveVaultPaths({AIVAULT_DIR: outsider})
    const config = readVaultConfig(paths)!
    assert.equal(config.keyProvider.type, 'recipients')
    const members = config.keyProvider.type === 'recipients' ? config.keyProvider.recipients : []
    const kek = await makeKek(await randomKey())
    const {mac: _mac, kekId: _kekId, ...unsigned} = config
    writeVaultConfig(paths, await signVaultConfig({...unsigned, keyProvider: await sealedRecipients(kek.key, members)}, kek))
    push(tv, outsider, 'routine: refresh vault.yaml')
    return kek.id
  }

  it('members refuse a vault.yaml replaced by a non-member; nothing is sealed under the outsider\'s key; reverting restores it', async () => {
    const attackerKekId = await replaceVaultYaml()
    for (const m of [alice, bob]) {
      pull(tv, m.root)
      assert.equal(kekIdOf(m), attackerKekId)
      const before = secretFiles(m)
      const result = m.run(['secrets', 'create', '--name', 'NEW_TOKEN', '--value', 'written-after-the-swap', '--json'])
      const created = expectJsonError(result, 1, 'vault_tampered')
      assert.match(created.message, new RegExp(`^vault\\.yaml names master key ${attackerKekId}, but this machine last opened [0-9a-f]{16} and vault\\.yaml has no link from it`))
      assert.match(parseJson(result).error.hint, /git log -p vault\.yaml/)
      assert.deepEqual(secretFiles(m), before, `${m.name}: a secret was sealed under the outsider's key`)
      expectJsonError(m.run(['recipients', 'list', '--json']), 1, 'vault_tampered')
      expectJsonError(m.run(['secrets', 'rotate', '--name', 'TEAM_TOKEN', '--value', 'x', '--json']), 1, 'vault_tampered')
    }
    git(tv, alice.root, ['revert', '--no-edit', 'HEAD'])
    git(tv, alice.root, ['push', '-q', 'origin', 'HEAD:main'])
    pull(tv, bob.root)
    bob.ok(['secrets', 'create', '--name', 'NEW_TOKEN', '--value', 'written-after-the-revert'])
    assert.equal(opened(bob), 2)
  })

  it('a removal by a member is followed after git pull with no extra step; the removed member is locked out', () => {
    const before = kekIdOf(alice)
    alice.ok(['recipients', 'remove', '--name', 'carol'])
    const yaml = fs.readFileSync(path.join(alice.root, 'vault.yaml'), 'utf8')
    assert.match(yaml, new RegExp(`previousKekId: "?${before}"?`))
    push(tv, alice.root, 'remove carol')
    pull(tv, bob.root)
    bob.ok(['secrets', 'create', '--name', 'BOB_TOKEN', '--value', 'bob-after-removal-0123'])
    assert.equal(opened(bob), 2)
    push(tv, bob.root, 'bob adds a token')
    // Both follow a later change made by the other, one step at a time.
    pull(tv, alice.root)
    bob.ok(['rotate-master'])
    push(tv, bob.root, 'rotate master')
    pull(tv, alice.root)
    assert.equal(opened(alice), 2)
    pull(tv, carol.root)
    expectJsonError(carol.run(['secrets', 'rotate', '--name', 'TEAM_TOKEN', '--value', 'x', '--json']), 1, 'vault_locked')
  })

  it('a clone two key changes behind is refused until accept-key names the reviewed key', () => {
    alice.ok(['recipients', 'remove', '--name', 'carol'])
    alice.ok(['rotate-master'])
    push(tv, alice.root, 'remove carol, then rotate')
    pull(tv, bob.root)
    const current = kekIdOf(bob)
    const result = bob.run(['secrets', 'create', '--name', 'BOB_TOKEN', '--value', 'v', '--json'])
    const refused = expectJsonError(result, 1, 'vault_tampered')
    assert.match(refused.message, /more than one step/)
    const hint = parseJson(result).error.hint as string
    assert.ok(hint.includes(`aivault recipients accept-key --kek-id ${current}`), hint)
    assert.match(git(tv, bob.root, ['log', '-p', '--', 'vault.yaml']), /remove carol, then rotate/) // what the operator reviews
    expectJsonError(bob.run(['recipients', 'accept-key', '--kek-id', 'zz', '--json']), 2, 'invalid_request')
    expectJsonError(bob.run(['recipients', 'accept-key', '--kek-id', '0123456789abcdef', '--json']), 1, 'conflict')
    const accepted = bob.json(['recipients', 'accept-key', '--kek-id', current])
    assert.equal(accepted.kekId, current)
    assert.match(accepted.previousKekId, /^[0-9a-f]{16}$/)
    assert.notEqual(accepted.previousKekId, current)
    bob.ok(['secrets', 'create', '--name', 'BOB_TOKEN', '--value', 'bob-after-accept-0123'])
    assert.equal(opened(bob), 2)
    const audit = path.join(bob.root, 'audit')
    const events = fs.readdirSync(audit).map((name) => fs.readFileSync(path.join(audit, name), 'latin1')).join('\n')
    assert.ok(events.includes('recipient.accept_key') && events.includes(current), 'accept-key is not in the audit log')
  })
})

/**
 * Unit tests of the recipients key chain (docs/decisions/013): each clone remembers the last KEK
 * it opened (run/, sealed to its identity) and follows a new vault.yaml only through a link whose
 * proof was made with that KEK. A vault.yaml replaced wholesale by someone without the key (a new
 * KEK sealed to every member, a valid MAC under it) fails closed.
 */
import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {AivaultError} from '../../src/errors'
import type {VaultConfig} from '../../src/vault/config'
import {parseVaultConfig, signVaultConfig, verifyVaultConfig} from '../../src/vault/config'
import {createIdentity} from '../../src/vault/keys/identity'
import {kekMemoryFile, makeKekLink, rememberedKekId, verifyKekLink} from '../../src/vault/keys/kek-chain'
import type {KekLink} from '../../src/vault/keys/kek-chain'
import {RecipientsKeyProvider, sealedRecipients} from '../../src/vault/keys/key-providers/recipients'
import {loadKeyring} from '../../src/vault/keys/keyring'
import type {Kek} from '../../src/vault/keys/seal'
import {makeKek, randomKey} from '../../src/vault/keys/seal'
import type {VaultPaths} from '../../src/vault/store/paths'
import {resolveVaultPaths} from '../../src/vault/store/paths'

async function rejectsWith(work: Promise<unknown>, code: string, message: RegExp): Promise<AivaultError> {
  try {
    await work
  } catch (error) {
    assert.ok(error instanceof AivaultError, `not an AivaultError: ${String(error)}`)
    assert.equal(error.code, code, error.message)
    assert.match(error.message, message)
    return error
  }
  throw new Error(`expected ${code}, but it succeeded`)
}

describe('the recipients key chain (decision 013)', () => {
  const vaultId = '6f1c2f1e-0000-4000-8000-000000000001'
  let dir: string
  let paths: VaultPaths
  let identities: {alice: string; bob: string}
  let members: {name: string; publicKey: string}[]
  let bobKey: string
  let keks: Kek[]

  /** vault.yaml at `kek`, sealed to both members, with an optional link; as read back from disk. */
  async function config(kek: Kek, link?: KekLink): Promise<VaultConfig> {
    const settings = await sealedRecipients(kek.key, members)
    const signed = await signVaultConfig({format: 1, vaultId, createdAt: '2024-01-01T00:00:00.000Z', testing: false, keyProvider: link ? {...settings, link} : settings}, kek)
    return parseVaultConfig(JSON.parse(JSON.stringify(signed)))
  }
  const open = (c: VaultConfig, who: 'alice' | 'bob' = 'bob') => loadKeyring(c, new RecipientsKeyProvider(c.keyProvider as never, identities[who]), paths)

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-kek-chain-'))
    paths = resolveVaultPaths({AIVAULT_DIR: path.join(dir, 'vault')})
    fs.mkdirSync(paths.root, {mode: 0o700})
    identities = {alice: path.join(dir, 'alice.key'), bob: path.join(dir, 'bob.key')}
    const alice = await createIdentity(identities.alice)
    const bob = await createIdentity(identities.bob)
    bobKey = bob.publicKey
    members = [{name: 'alice', publicKey: alice.publicKey}, {name: 'bob', publicKey: bob.publicKey}]
    keks = []
    for (let i = 0; i < 3; i++) keks.push(await makeKek(await randomKey()))
  })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  it('a link proves the new key with the old one: it verifies only under the old key, for that new key and vault', async () => {
    const link = await makeKekLink(vaultId, keks[0], keks[1])
    assert.equal(link.previousKekId, keks[0].id)
    assert.equal(Buffer.from(link.proof, 'base64').length, 32, 'a link holds a proof only, nothing a removed member could open')
    assert.equal(await verifyKekLink(vaultId, link, keks[0], keks[1]), true)
    assert.equal(await verifyKekLink(vaultId, link, keks[0], keks[2]), false, 'another new key')
    assert.equal(await verifyKekLink('another-vault', link, keks[0], keks[1]), false, 'another vault')
    const forged = await makeKekLink(vaultId, {id: keks[0].id, key: keks[2].key}, keks[1])
    assert.equal(await verifyKekLink(vaultId, forged, keks[0], keks[1]), false, 'made without the old key')
  })

  it('the link is part of what the config MAC covers', async () => {
    const c = await config(keks[1], await makeKekLink(vaultId, keks[0], keks[1]))
    await verifyVaultConfig(c, keks[1])
    const edited = parseVaultConfig(JSON.parse(JSON.stringify({...c, keyProvider: {...c.keyProvider, link: {previousKekId: keks[2].id, proof: (c.keyProvider as any).link.proof}}})))
    await rejectsWith(verifyVaultConfig(edited, keks[1]), 'vault_tampered', /do not match their MAC/)
  })

  it('trusts on first use (sealed to the identity, under run/), then follows one legitimate change at a time', async () => {
    await open(await config(keks[0]))
    const file = kekMemoryFile(paths, bobKey)
    assert.equal(path.dirname(file), paths.runDir)
    assert.equal(rememberedKekId(paths, bobKey), keks[0].id)
    assert.ok(!fs.readFileSync(file, 'utf8').includes(Buffer.from(keks[0].key).toString('base64')), 'the remembered key is stored in the clear')
    const next = await open(await config(keks[1], await makeKekLink(vaultId, keks[0], keks[1])))
    assert.equal(next.current.id, keks[1].id)
    assert.equal(rememberedKekId(paths, bobKey), keks[1].id)
    await open(await config(keks[2], await makeKekLink(vaultId, keks[1], keks[2])))
    assert.equal(rememberedKekId(paths, bobKey), keks[2].id)
    // Each identity has its own memory: alice, opening here for the first time, trusts what she finds.
    await open(await config(keks[2], await makeKekLink(vaultId, keks[1], keks[2])), 'alice')
    assert.equal(rememberedKekId(paths, members[0].publicKey), keks[2].id)
  })

  it('a vault.yaml replaced by a non-member (new key sealed to everyone, valid MAC) fails closed, with or without a forged link', async () => {
    await open(await config(keks[0]))
    const attacker = keks[2]
    const noLink = await rejectsWith(open(await config(attacker)), 'vault_tampered', /this machine last opened .* has no link from it/)
    assert.match(noLink.hint ?? '', new RegExp(`recipients accept-key --kek-id ${attacker.id}`))
    const forgedLink = await makeKekLink(vaultId, {id: keks[0].id, key: (await randomKey())}, attacker)
    await rejectsWith(open(await config(attacker, forgedLink)), 'vault_tampered', /does not verify: it was not made by a holder of that key/)
    assert.equal(rememberedKekId(paths, bobKey), keks[0].id, 'a refused key was remembered')
    // Restored, it opens again.
    await open(await config(keks[0]))
  })

  it('a clone more than one change behind is refused until the key is accepted; a rollback is refused too', async () => {
    await open(await config(keks[0]))
    const two = await config(keks[2], await makeKekLink(vaultId, keks[1], keks[2]))
    await rejectsWith(open(two), 'vault_tampered', /more than one step/)
    await loadKeyring(two, new RecipientsKeyProvider(two.keyProvider as never, identities.bob), paths, {followChain: false})
    assert.equal(rememberedKekId(paths, bobKey), keks[0].id, 'opening without following remembered the key')
    // What accept-key does after review: remember the key vault.yaml names.
    fs.rmSync(kekMemoryFile(paths, bobKey))
    await open(two)
    await rejectsWith(open(await config(keks[0])), 'vault_tampered', /more than one step|no link/)
  })
})

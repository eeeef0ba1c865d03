/**
 * Unit tests of identities and the recipients key provider (SPEC §11, §15 Teams): the identity
 * file's format, permissions and refusals; the KEK sealed to each member and opened only by
 * their identity; the recipients list covered by vault.yaml's MAC (edited, added, removed or
 * swapped entries fail closed with vault_tampered).
 */
import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {AivaultError} from '../../src/errors'
import type {VaultConfig} from '../../src/vault/config'
import {parseVaultConfig, signVaultConfig, verifyVaultConfig} from '../../src/vault/config'
import {createIdentity, decodePublicKey, loadIdentity, publicKeyFingerprint, readIdentityInfo} from '../../src/vault/keys/identity'
import type {RecipientsSettings} from '../../src/vault/keys/key-providers/recipients'
import {RecipientsKeyProvider, sealedRecipients} from '../../src/vault/keys/key-providers/recipients'
import type {RecipientEntry} from '../../src/vault/keys/key-providers/types'
import {makeKek, randomKey} from '../../src/vault/keys/seal'

const modeOf = (file: string) => fs.statSync(file).mode & 0o777

async function rejectsWith(work: Promise<unknown>, code: string, message?: RegExp): Promise<AivaultError> {
  try {
    await work
  } catch (error) {
    assert.ok(error instanceof AivaultError, `not an AivaultError: ${String(error)}`)
    assert.equal(error.code, code, error.message)
    if (message) assert.match(error.message, message)
    return error
  }
  throw new Error(`expected ${code}, but it succeeded`)
}

describe('identities (SPEC §11, §15 Teams)', () => {
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-identity-'))
  })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  it('creates a 0600 file in a 0700 folder holding a matching X25519 pair; the public key is 44 base64 characters', async () => {
    const file = path.join(dir, 'nested', 'identity.key')
    const info = await createIdentity(file)
    assert.equal(modeOf(file), 0o600)
    assert.equal(modeOf(path.dirname(file)), 0o700)
    assert.match(info.publicKey, /^[A-Za-z0-9+/]{43}=$/)
    assert.match(info.fingerprint, /^[0-9a-f]{4}(:[0-9a-f]{4}){3}$/)
    assert.equal(info.fingerprint, publicKeyFingerprint(info.publicKey))
    assert.deepEqual(readIdentityInfo(file), info)
    const pair = await loadIdentity(file)
    assert.equal(Buffer.from(pair!.publicKey).toString('base64'), info.publicKey)
    const text = fs.readFileSync(file, 'utf8')
    assert.match(text, /^# aivault identity v1/)
    assert.match(text, /^public-key: \S{44}$/m)
    assert.match(text, /^secret-key: \S{44}$/m)
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['identity.key'], 'no temp file left behind')
  })

  it('never overwrites an identity (conflict with a hint), and two identities differ', async () => {
    const file = path.join(dir, 'identity.key')
    const first = await createIdentity(file)
    const before = fs.readFileSync(file)
    const error = await rejectsWith(createIdentity(file), 'conflict', /already exists/)
    assert.match(error.hint ?? '', /never overwrites/)
    assert.deepEqual(fs.readFileSync(file), before)
    const other = await createIdentity(path.join(dir, 'other.key'))
    assert.notEqual(other.publicKey, first.publicKey)
  })

  it('a missing file is undefined; a malformed one is a clear vault_unavailable that never quotes a key', async () => {
    assert.equal(readIdentityInfo(path.join(dir, 'none.key')), undefined)
    assert.equal(await loadIdentity(path.join(dir, 'none.key')), undefined)
    const good = await createIdentity(path.join(dir, 'good.key'))
    const text = fs.readFileSync(path.join(dir, 'good.key'), 'utf8')
    const secret = /^secret-key: (\S+)$/m.exec(text)![1]
    const other = /^secret-key: (\S+)$/m.exec(fs.readFileSync((await createIdentity(path.join(dir, 'o.key'))).file, 'utf8'))![1]
    const cases: Array<[string, string, RegExp]> = [
      ['empty', '', /public-key is missing/],
      ['no secret', `public-key: ${good.publicKey}\n`, /secret-key is missing/],
      ['garbage line', `${text}hello world\n`, /line \d+ is not/],
      ['short key', text.replace(secret, secret.slice(4)), /secret-key is not a base64 32-byte key/],
      ['twice', `${text}public-key: ${good.publicKey}\n`, /public-key appears twice/],
      ['mismatched pair', text.replace(secret, other), /does not belong to its secret key/],
    ]
    for (const [label, body, message] of cases) {
      const file = path.join(dir, `${label.replace(/ /g, '-')}.key`)
      fs.writeFileSync(file, body, {mode: 0o600})
      const error = await rejectsWith(loadIdentity(file), 'vault_unavailable', message)
      assert.ok(error.message.includes(file), `${label}: names the file`)
      assert.ok(!error.message.includes(secret) && !(error.hint ?? '').includes(secret), `${label}: quotes the secret key`)
    }
    fs.mkdirSync(path.join(dir, 'a-folder.key'))
    await rejectsWith(loadIdentity(path.join(dir, 'a-folder.key')), 'vault_unavailable', /not a regular file/)
  })

  it('decodePublicKey accepts exactly standard base64 of 32 bytes', () => {
    const key = Buffer.alloc(32, 0xfb).toString('base64') // '+' and '/' in it
    assert.ok(decodePublicKey(key))
    for (const bad of ['', key.slice(1), key.replace(/=$/, ''), key.replace(/\+|\//g, '-'), Buffer.alloc(33).toString('base64'), `${key} `]) {
      assert.equal(decodePublicKey(bad), undefined, JSON.stringify(bad))
    }
  })
})

describe('the recipients key provider (SPEC §11)', () => {
  let dir: string
  let files: {alice: string; bob: string; carol: string}
  let keys: {alice: string; bob: string; carol: string}
  let kek: Uint8Array
  let settings: RecipientsSettings

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-recipients-'))
    files = {alice: path.join(dir, 'alice.key'), bob: path.join(dir, 'bob.key'), carol: path.join(dir, 'carol.key')}
    keys = {
      alice: (await createIdentity(files.alice)).publicKey,
      bob: (await createIdentity(files.bob)).publicKey,
      carol: (await createIdentity(files.carol)).publicKey,
    }
    kek = await randomKey()
    settings = await sealedRecipients(kek, [
      {name: 'bob', publicKey: keys.bob},
      {name: 'alice', publicKey: keys.alice},
    ])
  })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  it('seals the KEK to each member (sorted by name); each opens it with their own identity', async () => {
    assert.deepEqual(settings.recipients.map((r) => r.name), ['alice', 'bob'])
    assert.notEqual(settings.recipients[0].sealedKek, settings.recipients[1].sealedKek)
    for (const who of ['alice', 'bob'] as const) {
      const opened = await new RecipientsKeyProvider(settings, files[who]).loadKek()
      assert.deepEqual(Buffer.from(opened), Buffer.from(kek), who)
    }
  })

  it('refuses a non-recipient with vault_locked naming their fingerprint, the recipients and how to be added', async () => {
    const error = await rejectsWith(new RecipientsKeyProvider(settings, files.carol).loadKek(), 'vault_locked', /is not a recipient/)
    assert.ok(error.message.includes(publicKeyFingerprint(keys.carol)), error.message)
    assert.match(error.message, /alice, bob/)
    assert.ok((error.hint ?? '').includes(`recipients add --name <you> --public-key ${keys.carol}`), error.hint)
  })

  it('without an identity file: vault_locked with "aivault identity create"', async () => {
    const error = await rejectsWith(new RecipientsKeyProvider(settings, path.join(dir, 'none.key')).loadKek(), 'vault_locked', /no identity at/)
    assert.match(error.hint ?? '', /aivault identity create/)
  })

  it('a sealed key that does not open (a flipped byte, or another member\'s box) is vault_tampered', async () => {
    const flipped = Buffer.from(settings.recipients[0].sealedKek, 'base64')
    flipped[40] ^= 1
    const edited = {...settings, recipients: [{...settings.recipients[0], sealedKek: flipped.toString('base64')}, settings.recipients[1]]}
    await rejectsWith(new RecipientsKeyProvider(edited, files.alice).loadKek(), 'vault_tampered', /alice/)
    const swapped = {...settings, recipients: [{...settings.recipients[0], sealedKek: settings.recipients[1].sealedKek}, settings.recipients[1]]}
    await rejectsWith(new RecipientsKeyProvider(swapped, files.alice).loadKek(), 'vault_tampered')
  })

  it('settingsFor re-seals a new KEK to every member', async () => {
    const next = await randomKey()
    const resealed = await new RecipientsKeyProvider(settings, files.alice).settingsFor(next)
    assert.deepEqual(resealed.recipients.map((r) => [r.name, r.publicKey]), settings.recipients.map((r) => [r.name, r.publicKey]))
    assert.deepEqual(Buffer.from(await new RecipientsKeyProvider(resealed, files.bob).loadKek()), Buffer.from(next))
  })

  describe('vault.yaml', () => {
    let signed: VaultConfig
    beforeEach(async () => {
      signed = await signVaultConfig({format: 1, vaultId: '8b0f2a3e-1c4d-4e5f-8a9b-0c1d2e3f4a5b', createdAt: '2026-01-01T00:00:00.000Z', testing: false, keyProvider: settings}, await makeKek(kek))
    })
    const withRecipients = (config: VaultConfig, recipients: RecipientEntry[]): VaultConfig => parseVaultConfig({...config, keyProvider: {type: 'recipients', recipients}})

    it('the MAC covers the list: an edited name, an added, removed or reordered entry, a swapped key all fail closed', async () => {
      await verifyVaultConfig(parseVaultConfig(JSON.parse(JSON.stringify(signed))), await makeKek(kek))
      const [alice, bob] = settings.recipients
      const mallory = (await sealedRecipients(await randomKey(), [{name: 'mallory', publicKey: keys.carol}])).recipients[0]
      const variants: Array<[string, RecipientEntry[]]> = [
        ['renamed', [{...alice, name: 'alicia'}, bob]],
        ['added', [alice, bob, mallory]],
        ['removed', [alice]],
        ['reordered', [bob, alice]],
        ['key swapped', [alice, {...bob, publicKey: keys.carol}]],
        ['sealed key swapped', [{...alice, sealedKek: bob.sealedKek}, {...bob, sealedKek: alice.sealedKek}]],
      ]
      for (const [label, recipients] of variants) {
        await rejectsWith(verifyVaultConfig(withRecipients(signed, recipients), await makeKek(kek)), 'vault_tampered', /recipients/).catch((error: Error) => {
          throw new Error(`${label}: ${error.message}`)
        })
      }
    })

    it('parsing refuses a malformed list as vault_tampered before any key is used', () => {
      const [alice, bob] = settings.recipients
      const bad: Array<[string, unknown]> = [
        ['empty', []],
        ['not a list', 'alice'],
        ['bad name', [{...alice, name: 'a b'}]],
        ['bad key', [{...alice, publicKey: 'AAAA'}]],
        ['short sealed key', [{...alice, sealedKek: Buffer.alloc(32).toString('base64')}]],
        ['name twice', [alice, {...bob, name: 'alice'}]],
        ['key twice', [alice, {...bob, publicKey: alice.publicKey}]],
      ]
      for (const [label, recipients] of bad) {
        assert.throws(
          () => parseVaultConfig({...signed, keyProvider: {type: 'recipients', recipients}}),
          (error: unknown) => error instanceof AivaultError && error.code === 'vault_tampered' && /^vault\.yaml /.test(error.message),
          label,
        )
      }
    })
  })
})

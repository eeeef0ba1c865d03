/**
 * Unit tests of the sealing primitives (SPEC §1): XChaCha20-Poly1305 value under a random DEK,
 * associated data = vault id + secret id + scope + pinned provider, DEK wrapped by the KEK,
 * `kekId` a fingerprint (never the key), and the vault.yaml MAC.
 */
import assert from 'node:assert/strict'
import * as crypto from 'node:crypto'

import type {SecretScope} from '../../src/vault/scope'
import type {Kek, SealedValue} from '../../src/vault/keys/seal'
import {
  associatedData,
  configMac,
  kekFingerprint,
  makeKek,
  openValue,
  randomKey,
  rewrapDek,
  SEAL_ALG,
  SealOpenError,
  sealValue,
  verifyConfigMac,
} from '../../src/vault/keys/seal'

const VAULT_ID = '8b0f2a3e-1c4d-4e5f-8a9b-0c1d2e3f4a5b'
const SECRET_ID = '2f1e0d9c-8b7a-4654-a321-0fedcba98765'
const GLOBAL: SecretScope = {type: 'global'}

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8')
const ring = (...keks: Kek[]): Map<string, Kek> => new Map(keks.map((k) => [k.id, k]))

/** Flip one bit of the byte at `index` (negative counts from the end) of a base64 field. */
function flipB64(b64: string, index: number): string {
  const bytes = Buffer.from(b64, 'base64')
  const at = index < 0 ? bytes.length + index : index
  assert.ok(at >= 0 && at < bytes.length, `byte ${index} out of range for ${bytes.length} bytes`)
  bytes[at] ^= 0x01
  const out = bytes.toString('base64')
  assert.notEqual(out, b64)
  return out
}

async function expectOpenFails(keys: ReadonlyMap<string, Kek>, sealed: SealedValue, ad: Uint8Array, reason?: SealOpenError['reason']): Promise<SealOpenError> {
  try {
    await openValue(keys, sealed, ad)
  } catch (error) {
    assert.ok(error instanceof SealOpenError, `expected SealOpenError, got ${String(error)}`)
    if (reason) assert.equal(error.reason, reason)
    return error
  }
  assert.fail('the sealed value opened although it should not')
}

describe('seal: sealValue / openValue', () => {
  let kek: Kek
  let plaintext: Uint8Array
  let ad: Uint8Array
  let sealed: SealedValue

  beforeEach(async () => {
    kek = await makeKek(await randomKey())
    // Long enough that first, middle and last ciphertext bytes are distinct positions.
    plaintext = new Uint8Array(Buffer.from(`sk-test-${crypto.randomBytes(24).toString('hex')}`, 'utf8'))
    ad = associatedData(VAULT_ID, SECRET_ID, GLOBAL, 'openai')
    sealed = await sealValue(kek, plaintext, ad)
  })

  it('round-trips a value and records the algorithm and the wrapping key id', async () => {
    assert.equal(sealed.alg, SEAL_ALG)
    assert.equal(sealed.dek.kekId, kek.id)
    assert.equal(Buffer.from(sealed.nonce, 'base64').length, 24, 'XChaCha20 nonce is 24 bytes')
    assert.equal(Buffer.from(sealed.dek.nonce, 'base64').length, 24, 'secretbox nonce is 24 bytes')
    // ciphertext = plaintext + 16-byte Poly1305 tag; wrapped DEK = 32 bytes + 16-byte MAC.
    assert.equal(Buffer.from(sealed.ciphertext, 'base64').length, plaintext.length + 16)
    assert.equal(Buffer.from(sealed.dek.ciphertext, 'base64').length, 48)
    const opened = await openValue(ring(kek), sealed, ad)
    assert.deepEqual(Buffer.from(opened), Buffer.from(plaintext))
  })

  it('never stores the plaintext, and two seals of one value differ (fresh nonce and DEK)', async () => {
    const json = JSON.stringify(sealed)
    assert.ok(!json.includes(text(plaintext)))
    assert.ok(!json.includes(Buffer.from(plaintext).toString('base64')))
    const again = await sealValue(kek, plaintext, ad)
    assert.notEqual(again.nonce, sealed.nonce)
    assert.notEqual(again.ciphertext, sealed.ciphertext)
    assert.notEqual(again.dek.ciphertext, sealed.dek.ciphertext)
    assert.equal(text(await openValue(ring(kek), again, ad)), text(plaintext))
  })

  it('round-trips binary and multi-byte values', async () => {
    const value = new Uint8Array([0, 255, 1, 254, ...Buffer.from('ключ🔑', 'utf8')])
    const s = await sealValue(kek, value, ad)
    assert.deepEqual(Buffer.from(await openValue(ring(kek), s, ad)), Buffer.from(value))
  })

  it('fails when the value nonce is flipped', async () => {
    await expectOpenFails(ring(kek), {...sealed, nonce: flipB64(sealed.nonce, 0)}, ad, 'value')
    await expectOpenFails(ring(kek), {...sealed, nonce: flipB64(sealed.nonce, -1)}, ad, 'value')
  })

  for (const [where, index] of [
    ['first', 0],
    ['middle', 'middle'],
    ['last', -1],
  ] as const) {
    it(`fails when the ${where} byte of the value ciphertext is flipped`, async () => {
      const length = Buffer.from(sealed.ciphertext, 'base64').length
      const at = index === 'middle' ? Math.floor(length / 2) : index
      await expectOpenFails(ring(kek), {...sealed, ciphertext: flipB64(sealed.ciphertext, at)}, ad, 'value')
    })
  }

  it('fails when the ciphertext is truncated or extended', async () => {
    const bytes = Buffer.from(sealed.ciphertext, 'base64')
    await expectOpenFails(ring(kek), {...sealed, ciphertext: bytes.subarray(0, bytes.length - 1).toString('base64')}, ad)
    await expectOpenFails(ring(kek), {...sealed, ciphertext: Buffer.concat([bytes, Buffer.from([0])]).toString('base64')}, ad)
  })

  it('fails when the DEK nonce is flipped', async () => {
    await expectOpenFails(ring(kek), {...sealed, dek: {...sealed.dek, nonce: flipB64(sealed.dek.nonce, 0)}}, ad, 'dek')
    await expectOpenFails(ring(kek), {...sealed, dek: {...sealed.dek, nonce: flipB64(sealed.dek.nonce, 12)}}, ad, 'dek')
  })

  it('fails when the wrapped DEK ciphertext is flipped (first, middle, last byte)', async () => {
    for (const at of [0, 24, -1]) {
      await expectOpenFails(ring(kek), {...sealed, dek: {...sealed.dek, ciphertext: flipB64(sealed.dek.ciphertext, at)}}, ad, 'dek')
    }
  })

  it('fails when the kekId names an unknown key', async () => {
    const otherId = sealed.dek.kekId.replace(/^./, (c) => (c === '0' ? '1' : '0'))
    await expectOpenFails(ring(kek), {...sealed, dek: {...sealed.dek, kekId: otherId}}, ad, 'unknown_kek')
  })

  it('fails when the kekId names another key the keyring holds', async () => {
    const other = await makeKek(await randomKey())
    await expectOpenFails(ring(kek, other), {...sealed, dek: {...sealed.dek, kekId: other.id}}, ad, 'dek')
  })

  it('fails when opened with a keyring that lacks the wrapping key', async () => {
    const other = await makeKek(await randomKey())
    await expectOpenFails(ring(other), sealed, ad, 'unknown_kek')
    // A different key registered under the right id does not open it either.
    await expectOpenFails(new Map([[kek.id, {id: kek.id, key: other.key}]]), sealed, ad, 'dek')
  })

  it('fails when the alg is changed', async () => {
    await expectOpenFails(ring(kek), {...sealed, alg: 'xchacha20poly1305'}, ad, 'format')
    await expectOpenFails(ring(kek), {...sealed, alg: ''}, ad, 'format')
    await expectOpenFails(ring(kek), {...sealed, alg: 'aes-256-gcm'}, ad, 'format')
  })
})

describe('seal: associated data binds vault id, secret id, scope and pinned provider', () => {
  let kek: Kek
  const value = new Uint8Array(Buffer.from('ghp_associated_data_value', 'utf8'))

  before(async () => {
    kek = await makeKek(await randomKey())
  })

  const cases: {name: string; sealedWith: Parameters<typeof associatedData>; openedWith: Parameters<typeof associatedData>}[] = [
    {name: 'another vault id', sealedWith: [VAULT_ID, SECRET_ID, GLOBAL, undefined], openedWith: ['11111111-2222-4333-8444-555555555555', SECRET_ID, GLOBAL, undefined]},
    {name: 'another secret id', sealedWith: [VAULT_ID, SECRET_ID, GLOBAL, undefined], openedWith: [VAULT_ID, '99999999-8888-4777-8666-555555555555', GLOBAL, undefined]},
    {name: 'global -> workspace scope', sealedWith: [VAULT_ID, SECRET_ID, GLOBAL, undefined], openedWith: [VAULT_ID, SECRET_ID, {type: 'workspace', workspaceId: 'w1'}, undefined]},
    {
      name: 'another workspace',
      sealedWith: [VAULT_ID, SECRET_ID, {type: 'workspace', workspaceId: 'w1'}, undefined],
      openedWith: [VAULT_ID, SECRET_ID, {type: 'workspace', workspaceId: 'w2'}, undefined],
    },
    {
      name: 'workspace -> group in it',
      sealedWith: [VAULT_ID, SECRET_ID, {type: 'workspace', workspaceId: 'w1'}, undefined],
      openedWith: [VAULT_ID, SECRET_ID, {type: 'group', workspaceId: 'w1', groupId: 'g1'}, undefined],
    },
    {
      name: 'another group',
      sealedWith: [VAULT_ID, SECRET_ID, {type: 'group', workspaceId: 'w1', groupId: 'g1'}, undefined],
      openedWith: [VAULT_ID, SECRET_ID, {type: 'group', workspaceId: 'w1', groupId: 'g2'}, undefined],
    },
    {name: 'another pinned provider', sealedWith: [VAULT_ID, SECRET_ID, GLOBAL, 'openai'], openedWith: [VAULT_ID, SECRET_ID, GLOBAL, 'github']},
    {name: 'pinned provider removed', sealedWith: [VAULT_ID, SECRET_ID, GLOBAL, 'openai'], openedWith: [VAULT_ID, SECRET_ID, GLOBAL, undefined]},
    {name: 'pinned provider added', sealedWith: [VAULT_ID, SECRET_ID, GLOBAL, undefined], openedWith: [VAULT_ID, SECRET_ID, GLOBAL, 'openai']},
  ]

  for (const c of cases) {
    it(`fails to open under ${c.name}, and still opens under the original`, async () => {
      const ad = associatedData(...c.sealedWith)
      const other = associatedData(...c.openedWith)
      assert.notDeepEqual(Buffer.from(ad), Buffer.from(other))
      const sealed = await sealValue(kek, value, ad)
      await expectOpenFails(ring(kek), sealed, other, 'value')
      assert.equal(text(await openValue(ring(kek), sealed, ad)), text(value))
    })
  }

  it('is deterministic for equal inputs (a record re-read opens)', () => {
    const scope: SecretScope = {type: 'group', workspaceId: 'w', groupId: 'g'}
    assert.deepEqual(Buffer.from(associatedData(VAULT_ID, SECRET_ID, scope, 'x')), Buffer.from(associatedData(VAULT_ID, SECRET_ID, {...scope}, 'x')))
  })

  it('keeps distinct fields distinct (no ambiguous concatenation)', () => {
    // Shifting characters between adjacent fields must change the associated data.
    const a = associatedData('vault-a', 'secret', GLOBAL, undefined)
    const b = associatedData('vault-', 'asecret', GLOBAL, undefined)
    assert.notDeepEqual(Buffer.from(a), Buffer.from(b))
    const c = associatedData(VAULT_ID, SECRET_ID, {type: 'workspace', workspaceId: 'a'}, 'b')
    const d = associatedData(VAULT_ID, SECRET_ID, {type: 'workspace', workspaceId: 'ab'}, '')
    assert.notDeepEqual(Buffer.from(c), Buffer.from(d))
  })
})

describe('seal: rewrapDek', () => {
  it('keeps the value and re-wraps only the DEK under the new KEK', async () => {
    const oldKek = await makeKek(await randomKey())
    const newKek = await makeKek(await randomKey())
    assert.notEqual(oldKek.id, newKek.id)
    const ad = associatedData(VAULT_ID, SECRET_ID, GLOBAL, undefined)
    const sealed = await sealValue(oldKek, new Uint8Array(Buffer.from('rotate-me', 'utf8')), ad)

    const rewrapped = await rewrapDek(ring(oldKek), sealed, newKek)
    assert.equal(rewrapped.dek.kekId, newKek.id)
    assert.equal(rewrapped.ciphertext, sealed.ciphertext, 'the value ciphertext is untouched')
    assert.equal(rewrapped.nonce, sealed.nonce)
    assert.equal(rewrapped.alg, sealed.alg)
    assert.notEqual(rewrapped.dek.ciphertext, sealed.dek.ciphertext)
    assert.notEqual(rewrapped.dek.nonce, sealed.dek.nonce)

    // Opens under the new KEK alone, not under the old one alone.
    assert.equal(text(await openValue(ring(newKek), rewrapped, ad)), 'rotate-me')
    await expectOpenFails(ring(oldKek), rewrapped, ad, 'unknown_kek')
    // Even when the old key is registered under the new id, it cannot unwrap the new DEK.
    await expectOpenFails(new Map([[newKek.id, {id: newKek.id, key: oldKek.key}]]), rewrapped, ad, 'dek')
    // The original still opens under the old key (rewrap does not mutate its input).
    assert.equal(sealed.dek.kekId, oldKek.id)
    assert.equal(text(await openValue(ring(oldKek), sealed, ad)), 'rotate-me')
  })

  it('refuses to rewrap a DEK it cannot unwrap', async () => {
    const a = await makeKek(await randomKey())
    const b = await makeKek(await randomKey())
    const ad = associatedData(VAULT_ID, SECRET_ID, GLOBAL, undefined)
    const sealed = await sealValue(a, new Uint8Array([1, 2, 3]), ad)
    await assert.rejects(rewrapDek(ring(b), sealed, b), SealOpenError)
    const broken = {...sealed, dek: {...sealed.dek, ciphertext: flipB64(sealed.dek.ciphertext, 5)}}
    await assert.rejects(rewrapDek(ring(a), broken, b), (error) => error instanceof SealOpenError && error.reason === 'dek')
  })
})

describe('seal: kekFingerprint', () => {
  it('is stable for one key, short hex, and differs between keys', async () => {
    const key = await randomKey()
    const id1 = await kekFingerprint(key)
    const id2 = await kekFingerprint(new Uint8Array(key))
    assert.equal(id1, id2)
    assert.match(id1, /^[0-9a-f]{16}$/)
    assert.equal((await makeKek(key)).id, id1)

    const ids = new Set<string>()
    for (let i = 0; i < 20; i++) ids.add(await kekFingerprint(await randomKey()))
    ids.add(id1)
    assert.equal(ids.size, 21)

    const flipped = new Uint8Array(key)
    flipped[31] ^= 1
    assert.notEqual(await kekFingerprint(flipped), id1)
  })

  it('never equals or contains the key in base64 or hex', async () => {
    for (let i = 0; i < 20; i++) {
      const key = await randomKey()
      const id = await kekFingerprint(key)
      const hex = Buffer.from(key).toString('hex')
      const b64 = Buffer.from(key).toString('base64')
      const b64url = Buffer.from(key).toString('base64url')
      for (const form of [hex, b64, b64url]) {
        assert.notEqual(id, form)
        assert.ok(!form.includes(id), 'fingerprint is not a slice of the key')
        assert.ok(!id.includes(form))
      }
      // The fingerprint is not simply a prefix of the key's encodings either.
      assert.ok(!hex.startsWith(id))
      assert.ok(!b64.startsWith(id))
    }
  })

  it('is not a plain hash of the key alone (domain separated)', async () => {
    const key = await randomKey()
    const id = await kekFingerprint(key)
    for (const alg of ['sha256', 'sha512', 'sha1', 'md5']) {
      assert.ok(!crypto.createHash(alg).update(key).digest('hex').startsWith(id), alg)
    }
  })

  it('makeKek refuses keys that are not 32 bytes', async () => {
    await assert.rejects(makeKek(new Uint8Array(31)))
    await assert.rejects(makeKek(new Uint8Array(33)))
  })
})

describe('seal: configMac', () => {
  it('verifies the message it signed and fails on any change', async () => {
    const kek = await makeKek(await randomKey())
    const message = JSON.stringify(['aivault vault.yaml v1', 1, VAULT_ID, false, [['type', 'file']], kek.id])
    const mac = await configMac(kek, message)
    assert.equal(await configMac(kek, message), mac, 'deterministic')
    assert.equal(await verifyConfigMac(kek, message, mac), true)

    assert.equal(await verifyConfigMac(kek, message.replace('false', 'true'), mac), false, 'testing flag changed')
    assert.equal(await verifyConfigMac(kek, message.replace('"file"', '"env"'), mac), false, 'provider changed')
    assert.equal(await verifyConfigMac(kek, message + ' ', mac), false, 'appended byte')
    assert.equal(await verifyConfigMac(kek, message.slice(0, -1), mac), false, 'dropped byte')
  })

  it('fails under another key, with a flipped or truncated tag, or garbage', async () => {
    const kek = await makeKek(await randomKey())
    const other = await makeKek(await randomKey())
    const message = 'security settings'
    const mac = await configMac(kek, message)
    assert.equal(await verifyConfigMac(other, message, mac), false)
    assert.notEqual(await configMac(other, message), mac)
    assert.equal(await verifyConfigMac(kek, message, flipB64(mac, 0)), false)
    assert.equal(await verifyConfigMac(kek, message, flipB64(mac, -1)), false)
    const bytes = Buffer.from(mac, 'base64')
    assert.equal(await verifyConfigMac(kek, message, bytes.subarray(0, 16).toString('base64')), false)
    assert.equal(await verifyConfigMac(kek, message, ''), false)
    assert.equal(await verifyConfigMac(kek, message, 'not base64 at all!'), false)
  })

  it('is not the KEK and does not reveal it', async () => {
    const kek = await makeKek(await randomKey())
    const mac = await configMac(kek, 'm')
    assert.ok(!mac.includes(Buffer.from(kek.key).toString('base64')))
    assert.notEqual(Buffer.from(mac, 'base64').toString('hex'), Buffer.from(kek.key).toString('hex'))
  })
})

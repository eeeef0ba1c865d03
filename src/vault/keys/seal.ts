/**
 * Sealing of secret values (SPEC §1). What this promises:
 * - A value is encrypted with XChaCha20-Poly1305 under a fresh random 32-byte DEK; the
 *   associated data binds vault id, secret id, scope, pinned provider and (once a per-tenant
 *   key is bound to its tenant, SPEC §4) the tenant host, so a ciphertext
 *   moved to another record or vault, or a record whose bound metadata was edited, fails to open.
 * - The DEK is wrapped with crypto_secretbox under the KEK; `kekId` is a 64-bit fingerprint
 *   of the KEK that tells which key wrapped it (never the key itself).
 * - Nothing else is authenticated here: record metadata not in the associated data (aliases,
 *   timestamps) is plain YAML that git review covers.
 */
import {loadSodium} from './sodium'
import type {SecretScope} from '../scope'
import {scopeKey} from '../scope'

export const SEAL_ALG = 'xchacha20poly1305-ietf'

export interface SealedValue {
  alg: string
  nonce: string
  ciphertext: string
  dek: {nonce: string; ciphertext: string; kekId: string}
}

export interface Kek {
  id: string
  key: Uint8Array
}

/** Why a sealed value did not open; the store turns it into `vault_tampered` naming the file. */
export class SealOpenError extends Error {
  constructor(readonly reason: 'unknown_kek' | 'dek' | 'value' | 'format', message: string) {
    super(message)
  }
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64')
const unb64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64'))

export async function kekFingerprint(key: Uint8Array): Promise<string> {
  const sodium = await loadSodium()
  const input = new Uint8Array([...Buffer.from('aivault kek id v1\0'), ...key])
  return sodium.to_hex(sodium.crypto_generichash(8, input, null))
}

export async function makeKek(key: Uint8Array): Promise<Kek> {
  if (key.length !== 32) throw new Error('a KEK is 32 bytes')
  return {id: await kekFingerprint(key), key}
}

export async function randomKey(): Promise<Uint8Array> {
  const sodium = await loadSodium()
  return sodium.randombytes_buf(32)
}

/** A bound tenant host adds a sixth element; unbound records keep the five-element form they were sealed with. */
export function associatedData(vaultId: string, secretId: string, scope: SecretScope, pinnedProvider: string | undefined, tenantHost?: string): Uint8Array {
  const parts = ['aivault/v1', vaultId, secretId, scopeKey(scope), pinnedProvider ?? '']
  if (tenantHost) parts.push(`tenant:${tenantHost}`)
  return Buffer.from(JSON.stringify(parts), 'utf8')
}

export async function wrapDek(kek: Kek, dek: Uint8Array): Promise<SealedValue['dek']> {
  const sodium = await loadSodium()
  const nonce = sodium.randombytes_buf(sodium.crypto_secretbox_NONCEBYTES)
  return {nonce: b64(nonce), ciphertext: b64(sodium.crypto_secretbox_easy(dek, nonce, kek.key)), kekId: kek.id}
}

export async function unwrapDek(keys: ReadonlyMap<string, Kek>, wrapped: SealedValue['dek']): Promise<Uint8Array> {
  const sodium = await loadSodium()
  const kek = keys.get(wrapped.kekId)
  if (!kek) throw new SealOpenError('unknown_kek', `sealed under key ${wrapped.kekId}, which this vault does not hold`)
  try {
    return sodium.crypto_secretbox_open_easy(unb64(wrapped.ciphertext), unb64(wrapped.nonce), kek.key)
  } catch {
    throw new SealOpenError('dek', 'the wrapped data key does not open')
  }
}

export async function sealValue(kek: Kek, plaintext: Uint8Array, ad: Uint8Array): Promise<SealedValue> {
  const sodium = await loadSodium()
  const dek = sodium.crypto_aead_xchacha20poly1305_ietf_keygen()
  const nonce = sodium.randombytes_buf(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
  const ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce, dek)
  const wrapped = await wrapDek(kek, dek)
  sodium.memzero(dek)
  return {alg: SEAL_ALG, nonce: b64(nonce), ciphertext: b64(ciphertext), dek: wrapped}
}

export async function openValue(keys: ReadonlyMap<string, Kek>, sealed: SealedValue, ad: Uint8Array): Promise<Uint8Array> {
  if (sealed.alg !== SEAL_ALG) throw new SealOpenError('format', `unknown sealing algorithm ${JSON.stringify(sealed.alg)}`)
  const sodium = await loadSodium()
  const dek = await unwrapDek(keys, sealed.dek)
  try {
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, unb64(sealed.ciphertext), ad, unb64(sealed.nonce), dek)
  } catch {
    throw new SealOpenError('value', 'the value does not open with its record metadata')
  } finally {
    sodium.memzero(dek)
  }
}

/** Re-wrap the DEK under another KEK; the value ciphertext is untouched (rotate-master). */
export async function rewrapDek(keys: ReadonlyMap<string, Kek>, sealed: SealedValue, target: Kek): Promise<SealedValue> {
  const sodium = await loadSodium()
  const dek = await unwrapDek(keys, sealed.dek)
  const wrapped = await wrapDek(target, dek)
  sodium.memzero(dek)
  return {...sealed, dek: wrapped}
}

async function macKey(kek: Kek): Promise<Uint8Array> {
  const sodium = await loadSodium()
  return sodium.crypto_generichash(sodium.crypto_auth_KEYBYTES, Buffer.from('aivault vault.yaml mac v1'), kek.key)
}

/** MAC over vault.yaml's security settings with a key derived from the KEK. */
export async function configMac(kek: Kek, message: string): Promise<string> {
  const sodium = await loadSodium()
  return b64(sodium.crypto_auth(Buffer.from(message, 'utf8'), await macKey(kek)))
}

export async function verifyConfigMac(kek: Kek, message: string, mac: string): Promise<boolean> {
  const sodium = await loadSodium()
  const tag = unb64(mac)
  if (tag.length !== sodium.crypto_auth_BYTES) return false
  return sodium.crypto_auth_verify(tag, Buffer.from(message, 'utf8'), await macKey(kek))
}

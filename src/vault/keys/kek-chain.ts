/**
 * The key chain of a recipients vault (docs/decisions/013). vault.yaml's MAC is keyed by the KEK
 * it names, so it cannot tell a legitimate new KEK from one a non-member made up and sealed to
 * every member. Two things close that:
 * - every KEK change aivault makes writes a link into the new vault.yaml: the old key id and a
 *   proof, a MAC keyed by the OLD KEK over the vault id, both key ids and a commitment to the
 *   new KEK. Only a holder of the old KEK can make it; it reveals nothing of the new one, so a
 *   removed member who kept an old KEK derives no later key from it;
 * - each clone remembers, under run/ (machine-local, never committed), the last KEK it opened,
 *   sealed to its own identity. A vault.yaml naming another KEK is followed only when its link
 *   starts at the remembered one and its proof verifies under it; anything else fails closed
 *   until the operator reviews the change and runs `aivault recipients accept-key`.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

import {AivaultError} from '../../errors'
import {writeFileAtomic} from '../store/atomic-file'
import type {VaultPaths} from '../store/paths'
import {publicKeyFingerprint} from './identity'
import type {Identity} from './identity'
import type {Kek} from './seal'
import {makeKek} from './seal'
import {loadSodium} from './sodium'

/** The link vault.yaml carries after a KEK change (inside the keyProvider settings, so the config MAC covers it). */
export interface KekLink {
  previousKekId: string
  /** Standard base64 of crypto_auth (HMAC-SHA-512-256) under a key derived from the previous KEK. */
  proof: string
}

export const KEK_ID = /^[0-9a-f]{16}$/

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64')

/** A subkey of the old KEK used for nothing else (the config MAC has its own). */
async function linkKey(previous: Kek): Promise<Uint8Array> {
  const sodium = await loadSodium()
  return sodium.crypto_generichash(sodium.crypto_auth_KEYBYTES, Buffer.from('aivault kek chain key v1'), previous.key)
}

/** What the proof covers: the 64-bit key id alone would be a weak commitment, so a 256-bit hash of the new KEK too. */
async function linkMessage(vaultId: string, previousKekId: string, next: Kek): Promise<Uint8Array> {
  const sodium = await loadSodium()
  const commitment = sodium.crypto_generichash(32, new Uint8Array([...Buffer.from('aivault kek commitment v1\0'), ...next.key]), null)
  return Buffer.from(JSON.stringify(['aivault kek chain v1', vaultId, previousKekId, next.id, b64(commitment)]), 'utf8')
}

export async function makeKekLink(vaultId: string, previous: Kek, next: Kek): Promise<KekLink> {
  const sodium = await loadSodium()
  const proof = sodium.crypto_auth(await linkMessage(vaultId, previous.id, next), await linkKey(previous))
  return {previousKekId: previous.id, proof: b64(proof)}
}

export async function verifyKekLink(vaultId: string, link: KekLink, previous: Kek, next: Kek): Promise<boolean> {
  if (link.previousKekId !== previous.id) return false
  const sodium = await loadSodium()
  const proof = new Uint8Array(Buffer.from(link.proof, 'base64'))
  if (proof.length !== sodium.crypto_auth_BYTES) return false
  return sodium.crypto_auth_verify(proof, await linkMessage(vaultId, previous.id, next), await linkKey(previous))
}

/** run/known-key-<identity fingerprint>.json: one per identity, as several may use one vault folder. */
interface KekMemory {
  vaultId: string
  kekId: string
  /** The KEK, crypto_box_seal'ed to this identity's public key. */
  sealedKek: string
}

export function kekMemoryFile(paths: VaultPaths, publicKey: string): string {
  return path.join(paths.runDir, `known-key-${publicKeyFingerprint(publicKey).replaceAll(':', '')}.json`)
}

function readKekMemory(file: string): KekMemory | undefined {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new AivaultError('vault_unavailable', `${file} cannot be read: ${(error as NodeJS.ErrnoException).code}`)
  }
  let m: Partial<KekMemory> | null = null
  try {
    m = JSON.parse(text) as Partial<KekMemory> | null
  } catch {
    m = null
  }
  if (!m || typeof m.vaultId !== 'string' || typeof m.kekId !== 'string' || !KEK_ID.test(m.kekId) || typeof m.sealedKek !== 'string') {
    throw new AivaultError('vault_unavailable', `${file} (the key this machine last opened) is malformed`, {
      hint: 'review "git log -p vault.yaml", then run "aivault recipients accept-key --kek-id <the kekId vault.yaml names>"',
    })
  }
  return {vaultId: m.vaultId, kekId: m.kekId, sealedKek: m.sealedKek}
}

/** Remember `kek` as the last key this identity opened in this vault folder. */
export async function rememberKek(paths: VaultPaths, vaultId: string, kek: Kek, publicKey: string): Promise<void> {
  const sodium = await loadSodium()
  const sealedKek = b64(sodium.crypto_box_seal(kek.key, new Uint8Array(Buffer.from(publicKey, 'base64'))))
  writeFileAtomic(kekMemoryFile(paths, publicKey), JSON.stringify({vaultId, kekId: kek.id, sealedKek}) + '\n', {root: paths.root})
}

/** The remembered key id, if any (accept-key reports it). */
export function rememberedKekId(paths: VaultPaths, publicKey: string): string | undefined {
  return readKekMemory(kekMemoryFile(paths, publicKey))?.kekId
}

async function openMemory(file: string, memory: KekMemory, identity: Identity): Promise<Kek> {
  const sodium = await loadSodium()
  let key: Uint8Array
  try {
    key = sodium.crypto_box_seal_open(new Uint8Array(Buffer.from(memory.sealedKek, 'base64')), identity.publicKey, identity.secretKey)
  } catch {
    key = new Uint8Array(0)
  } finally {
    sodium.memzero(identity.secretKey)
  }
  const kek = key.length === 32 ? await makeKek(key) : undefined
  if (!kek || kek.id !== memory.kekId) {
    throw new AivaultError('vault_unavailable', `${file} (the key this machine last opened) does not open with your identity`, {
      hint: 'review "git log -p vault.yaml", then run "aivault recipients accept-key --kek-id <the kekId vault.yaml names>"',
    })
  }
  return kek
}

export interface ChainCheck {
  paths: VaultPaths
  vaultId: string
  /** The KEK vault.yaml names, already opened and its MAC verified. */
  current: Kek
  link: KekLink | undefined
  publicKey: string
  /** This process's identity, loaded only when a link must be verified. */
  identity: () => Promise<Identity>
}

/**
 * Follow vault.yaml's key from the one this machine remembers: the same key, or one link from it
 * whose proof verifies. No memory yet: trust on first use. Everything else is `vault_tampered`.
 */
export async function followKekChain(check: ChainCheck): Promise<void> {
  const file = kekMemoryFile(check.paths, check.publicKey)
  const memory = readKekMemory(file)
  if (!memory) return rememberKek(check.paths, check.vaultId, check.current, check.publicKey)
  if (memory.kekId === check.current.id && memory.vaultId === check.vaultId) return
  const {link, current} = check
  const review = `review "git log -p vault.yaml": every key change should be a "recipients remove", "rotate-master" or "recipients init" commit by a member`
  if (link && memory.vaultId === check.vaultId && link.previousKekId === memory.kekId) {
    const previous = await openMemory(file, memory, await check.identity())
    if (await verifyKekLink(check.vaultId, link, previous, current)) return rememberKek(check.paths, check.vaultId, current, check.publicKey)
    throw new AivaultError('vault_tampered', `vault.yaml names master key ${current.id}, whose link from ${memory.kekId} (the key this machine last opened) does not verify: it was not made by a holder of that key`, {
      hint: `restore vault.yaml from git (someone without the vault's key replaced it); ${review}`,
    })
  }
  const why = memory.vaultId === check.vaultId ? `vault.yaml has no link from it` : `vault.yaml names another vault id (${check.vaultId}, was ${memory.vaultId})`
  throw new AivaultError('vault_tampered', `vault.yaml names master key ${current.id}, but this machine last opened ${memory.kekId} and ${why}: the key changed by more than one step since, or vault.yaml was replaced by someone who does not hold the key`, {
    hint: `${review}; if every change is legitimate, run "aivault recipients accept-key --kek-id ${current.id}", otherwise restore vault.yaml from git`,
  })
}

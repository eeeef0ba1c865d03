import {AivaultError} from '../../../errors'
import type {Identity} from '../identity'
import type {VaultPaths} from '../../store/paths'
import {decodePublicKey, loadIdentity, publicKeyFingerprint, readIdentityInfo} from '../identity'
import type {KekLink} from '../kek-chain'
import {followKekChain, KEK_ID} from '../kek-chain'
import type {Kek} from '../seal'
import {loadSodium} from '../sodium'
import type {KeyProvider, KeyProviderSettings, RecipientEntry} from './types'

export type RecipientsSettings = Extract<KeyProviderSettings, {type: 'recipients'}>

/** A recipient's name: what `recipients add --name` accepts and vault.yaml may hold. */
export const RECIPIENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/

const SEALED_KEK_BYTES = 32 + 48 // the KEK plus crypto_box_SEALBYTES

/**
 * The recipients list of vault.yaml, checked entry by entry; `tampered` builds the error. The
 * list is part of what the config MAC covers, so any edit the checks let through still fails
 * closed when the MAC is verified.
 */
export function parseRecipientsSettings(value: Record<string, unknown>, tampered: (why: string) => AivaultError): RecipientsSettings {
  const list = value.recipients
  if (!Array.isArray(list) || list.length === 0) throw tampered('has no recipients')
  const names = new Set<string>()
  const keys = new Set<string>()
  const recipients = list.map((item: unknown, index): RecipientEntry => {
    const r = (item ?? {}) as Record<string, unknown>
    const where = `recipient ${index + 1}`
    if (typeof r.name !== 'string' || !RECIPIENT_NAME.test(r.name)) throw tampered(`has an invalid name for ${where}`)
    if (typeof r.publicKey !== 'string' || !decodePublicKey(r.publicKey)) throw tampered(`has an invalid publicKey for ${r.name}`)
    if (typeof r.sealedKek !== 'string' || Buffer.from(r.sealedKek, 'base64').length !== SEALED_KEK_BYTES) throw tampered(`has an invalid sealedKek for ${r.name}`)
    if (names.has(r.name)) throw tampered(`names recipient ${r.name} twice`)
    if (keys.has(r.publicKey)) throw tampered(`lists the public key of ${r.name} twice`)
    names.add(r.name)
    keys.add(r.publicKey)
    return {name: r.name, publicKey: r.publicKey, sealedKek: r.sealedKek}
  })
  if (value.link === undefined) return {type: 'recipients', recipients}
  return {type: 'recipients', recipients, link: parseLink(value.link, tampered)}
}

/** The key chain link (kek-chain.ts); rebuilt in a fixed key order, as the MAC is computed over it. */
function parseLink(value: unknown, tampered: (why: string) => AivaultError): KekLink {
  const l = (value ?? {}) as Record<string, unknown>
  if (typeof l.previousKekId !== 'string' || !KEK_ID.test(l.previousKekId)) throw tampered('has an invalid keyProvider.link.previousKekId')
  if (typeof l.proof !== 'string' || Buffer.from(l.proof, 'base64').length !== 32) throw tampered('has an invalid keyProvider.link.proof')
  return {previousKekId: l.previousKekId, proof: l.proof}
}

/** Seal the KEK to one X25519 public key (libsodium sealed box: anonymous sender, only the key's owner opens it). */
export async function sealKekTo(kek: Uint8Array, publicKey: string): Promise<string> {
  const sodium = await loadSodium()
  const key = decodePublicKey(publicKey)
  if (!key) throw new AivaultError('invalid_request', 'the public key is not a base64 32-byte key')
  try {
    return Buffer.from(sodium.crypto_box_seal(kek, key)).toString('base64')
  } catch {
    throw new AivaultError('invalid_request', `the public key ${publicKeyFingerprint(publicKey)} is not a usable X25519 key`, {
      hint: 'ask the member for the key "aivault identity show" prints',
    })
  }
}

/** Settings for `kek` sealed to each member, sorted by name so vault.yaml stays deterministic. */
export async function sealedRecipients(kek: Uint8Array, members: ReadonlyArray<{name: string; publicKey: string}>): Promise<RecipientsSettings> {
  const sorted = [...members].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const recipients: RecipientEntry[] = []
  for (const m of sorted) recipients.push({name: m.name, publicKey: m.publicKey, sealedKek: await sealKekTo(kek, m.publicKey)})
  return {type: 'recipients', recipients}
}

/** "alice, bob" (or "alice, bob and 3 more"), for messages. */
export function recipientNames(settings: RecipientsSettings): string {
  const names = settings.recipients.map((r) => r.name)
  return names.length <= 4 ? names.join(', ') : `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`
}

/**
 * The KEK is sealed in vault.yaml to each member's public key; this process opens the entry
 * for its own identity file (AIVAULT_IDENTITY). Like the `file` provider's key file, the
 * identity is read by every process that needs the key (CLI, aivaultd): there is nothing to
 * unlock. A new KEK needs no staging: rotate-master's bridge (run/rotation.json) carries it
 * until vault.yaml names it, sealed to every member (`settingsFor`).
 */
export class RecipientsKeyProvider implements KeyProvider {
  readonly type = 'recipients' as const

  constructor(
    private readonly settings: RecipientsSettings,
    readonly location: string,
  ) {}

  /** This process's identity; `vault_locked` with how to get one when there is none. */
  async identity(): Promise<Identity> {
    const identity = await loadIdentity(this.location)
    if (!identity) {
      throw new AivaultError('vault_locked', `no identity at ${this.location}: a recipients vault opens only with a recipient's identity`, {
        hint: `run "aivault identity create" and ask a recipient (${recipientNames(this.settings)}) to add the public key it prints`,
      })
    }
    return identity
  }

  async loadKek(): Promise<Uint8Array> {
    const identity = await this.identity()
    const publicKey = Buffer.from(identity.publicKey).toString('base64')
    const entry = this.settings.recipients.find((r) => r.publicKey === publicKey)
    if (!entry) {
      const fingerprint = publicKeyFingerprint(publicKey)
      throw new AivaultError('vault_locked', `your identity ${fingerprint} (${this.location}) is not a recipient of this vault (recipients: ${recipientNames(this.settings)})`, {
        hint: `ask one of them to run "aivault recipients add --name <you> --public-key ${publicKey}" and share the change (if you were a recipient, check "git log -p vault.yaml")`,
      })
    }
    const sodium = await loadSodium()
    let kek: Uint8Array
    try {
      kek = sodium.crypto_box_seal_open(new Uint8Array(Buffer.from(entry.sealedKek, 'base64')), identity.publicKey, identity.secretKey)
    } catch {
      kek = new Uint8Array(0)
    } finally {
      sodium.memzero(identity.secretKey)
    }
    if (kek.length !== 32) {
      throw new AivaultError('vault_tampered', `vault.yaml: the sealed key of recipient ${entry.name} does not open with your identity`, {
        hint: 'restore vault.yaml from git or a backup',
      })
    }
    return kek
  }

  async loadPendingKek(): Promise<undefined> {
    return undefined
  }

  async stagePendingKek(): Promise<void> {}

  async commitPendingKek(): Promise<void> {}

  async followKeyChain(config: {vaultId: string; keyProvider: KeyProviderSettings}, current: Kek, paths: VaultPaths): Promise<void> {
    const publicKey = readIdentityInfo(this.location)?.publicKey ?? Buffer.from((await this.identity()).publicKey).toString('base64')
    const link = config.keyProvider.type === 'recipients' ? config.keyProvider.link : undefined
    await followKekChain({paths, vaultId: config.vaultId, current, link, publicKey, identity: () => this.identity()})
  }

  /** The new KEK sealed to every member; rotate-master adds the chain link (it holds the old KEK). */
  settingsFor(key: Uint8Array): Promise<RecipientsSettings> {
    return sealedRecipients(key, this.settings.recipients)
  }
}

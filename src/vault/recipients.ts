import * as os from 'node:os'
import * as path from 'node:path'

import {AivaultError} from '../errors'
import {signVaultConfig, writeVaultConfig} from './config'
import type {IdentityInfo} from './keys/identity'
import {ensureIdentity, identityPath, publicKeyFingerprint, readIdentityInfo} from './keys/identity'
import type {RecipientsSettings} from './keys/key-providers/recipients'
import {RECIPIENT_NAME, sealedRecipients, sealKekTo} from './keys/key-providers/recipients'
import type {KeyProviderSettings} from './keys/key-providers/types'
import {rememberedKekId, rememberKek} from './keys/kek-chain'
import {loadKeyring} from './keys/keyring'
import type {RotateMasterResult} from './keys/rotate-master'
import {rotateMaster} from './keys/rotate-master'
import {secretIdOfRef} from './store/credential-record'
import type {Vault} from './vault'

/**
 * Team vaults (SPEC §11): who may open a recipients vault. Adding a member seals the current
 * KEK to their key (one sealed box, whatever the number of secrets); removing one rotates the
 * KEK with rotate-master's crash-safe machinery, so the removed member's copy of the old KEK
 * opens nothing written afterwards.
 */
export interface RecipientView {
  name: string
  publicKey: string
  fingerprint: string
  /** Whether this is the identity of the process asking. */
  you: boolean
}

export interface RecipientsList {
  recipients: RecipientView[]
  /** True when this process opened the KEK and verified the list against vault.yaml's MAC. */
  verified: boolean
}

export interface RecipientChange {
  recipient: {name: string; publicKey: string; fingerprint: string}
  recipients: RecipientView[]
}

/** What a removed member could read, so it can be rotated where it was issued. */
export interface UpstreamExposure {
  credentials: {id: string; provider: string; secrets: string[]}[]
  /** Secrets no credential uses (their values are as exposed). */
  secrets: string[]
}

export interface RemoveResult extends RecipientChange {
  previousKekId: string
  kekId: string
  secrets: number
  rewrapped: number
  removedYourself: boolean
  rotateUpstream: UpstreamExposure
}

export interface SwitchResult {
  previousProvider: string
  previousKekId: string
  kekId: string
  secrets: number
  rewrapped: number
  identity: IdentityInfo & {created: boolean}
  recipients: RecipientView[]
  /** The old key file: no longer used; it still opens what git history holds from before. */
  previousKeyFile: string | null
}

/** This process's identity for a new first recipient: made when missing, never inside the vault folder (it would be committed). */
async function creatorIdentity(vault: Vault): Promise<IdentityInfo & {created: boolean}> {
  const file = identityPath(vault.env)
  const inside = path.relative(vault.paths.root, file)
  if (!inside.startsWith('..') && !path.isAbsolute(inside)) {
    throw new AivaultError('invalid_request', `the identity ${file} is inside the vault folder, which is meant to be shared`, {
      hint: 'point AIVAULT_IDENTITY at a file outside the vault folder (the default is ~/.aivault/identity.key)',
    })
  }
  return ensureIdentity(file)
}

/** The default name of the first recipient: the OS user name (SPEC §15 Teams). */
export function defaultRecipientName(): string {
  let name: string
  try {
    name = os.userInfo().username
  } catch {
    name = ''
  }
  if (!RECIPIENT_NAME.test(name)) {
    throw new AivaultError('invalid_request', `the OS user name ${JSON.stringify(name)} is not a usable recipient name`, {hint: 'pass --name <name>'})
  }
  return name
}

function recipientsOf(vault: Vault): RecipientsSettings {
  const settings = vault.config().keyProvider
  if (settings.type !== 'recipients') {
    throw new AivaultError('invalid_request', `this vault uses the ${settings.type} key provider, not recipients`, {
      hint: settings.type === 'file' ? 'switch it with "aivault recipients init"' : 'only a file vault can switch to recipients',
    })
  }
  return settings
}

/** This process's public key, if it has a readable identity (a malformed one is reported by whatever needs the key). */
function myPublicKey(vault: Vault): string | undefined {
  try {
    return readIdentityInfo(identityPath(vault.env))?.publicKey
  } catch {
    return undefined
  }
}

function views(vault: Vault, settings: RecipientsSettings): RecipientView[] {
  const mine = myPublicKey(vault)
  return settings.recipients.map((r) => ({name: r.name, publicKey: r.publicKey, fingerprint: publicKeyFingerprint(r.publicKey), you: r.publicKey === mine}))
}

/** The recipients, verified against the MAC when this process can open the KEK. Reading never writes. */
export async function listRecipients(vault: Vault): Promise<RecipientsList> {
  const settings = recipientsOf(vault)
  let verified = true
  try {
    await vault.keyring()
  } catch (error) {
    if (!(error instanceof AivaultError && error.code === 'vault_locked')) throw error
    verified = false // not a recipient: the list is shown as vault.yaml has it
  }
  return {recipients: views(vault, settings), verified}
}

/** Seal the current KEK to one more member (constant time in the number of secrets). */
export async function addRecipient(vault: Vault, member: {name: string; publicKey: string}): Promise<RecipientChange> {
  recipientsOf(vault)
  return vault.withLock(async () => {
    vault.reload()
    const config = vault.config()
    const settings = recipientsOf(vault)
    const keyring = await vault.keyring()
    if (keyring.pending || keyring.previous) {
      throw new AivaultError('conflict', 'an interrupted change of the master key is not finished', {hint: 'run "aivault rotate-master" to finish it, then add the recipient'})
    }
    if (settings.recipients.some((r) => r.name === member.name)) {
      throw new AivaultError('conflict', `recipient ${member.name} already exists`, {hint: `pick another --name, or "aivault recipients remove --name ${member.name}" first`})
    }
    const same = settings.recipients.find((r) => r.publicKey === member.publicKey)
    if (same) throw new AivaultError('conflict', `that public key is already recipient ${same.name}`)
    const entry = {name: member.name, publicKey: member.publicKey, sealedKek: await sealKekTo(keyring.current.key, member.publicKey)}
    const recipients = [...settings.recipients, entry].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    const {mac: _mac, kekId: _kekId, ...unsigned} = config
    writeVaultConfig(vault.paths, await signVaultConfig({...unsigned, keyProvider: {...settings, recipients}}, keyring.current))
    vault.reload()
    const fingerprint = publicKeyFingerprint(member.publicKey)
    await vault.audit.append('recipient.add', {name: member.name, fingerprint, kekId: keyring.current.id})
    return {recipient: {name: member.name, publicKey: member.publicKey, fingerprint}, recipients: views(vault, recipientsOf(vault))}
  })
}

/** Every credential and unused secret of the vault: what a member who held the KEK could read. */
function exposure(vault: Vault): UpstreamExposure {
  const secrets = vault.secrets.list().records
  const nameOf = new Map(secrets.map((s) => [s.id, s.name]))
  const used = new Set<string>()
  const credentials = vault.credentials.list().records.map((c) => {
    const ids = Object.values(c.secretRefs).map(secretIdOfRef).filter((id): id is string => id !== undefined)
    for (const id of ids) used.add(id)
    return {id: c.id, provider: c.provider, secrets: [...new Set(ids.map((id) => nameOf.get(id) ?? id))].sort()}
  })
  return {credentials, secrets: secrets.filter((s) => !used.has(s.id)).map((s) => s.name).sort()}
}

/**
 * Remove a member: a new KEK, every DEK re-wrapped under it (crash-safe, resumable), the new
 * KEK sealed to everyone else. An interrupted earlier rotation is finished first, then this one runs.
 */
export async function removeRecipient(vault: Vault, name: string, onProgress?: (done: number, total: number) => void): Promise<RemoveResult> {
  const before = recipientsOf(vault)
  const removed = before.recipients.find((r) => r.name === name)
  if (!removed) throw new AivaultError('not_found', `no recipient named ${name}`, {hint: 'see "aivault recipients list"'})
  const rotateUpstream = exposure(vault)
  const nextSettings = async (target: {key: Uint8Array}, current: KeyProviderSettings): Promise<KeyProviderSettings> => {
    if (current.type !== 'recipients') throw new AivaultError('invalid_request', 'this vault is no longer a recipients vault')
    const rest = current.recipients.filter((r) => r.name !== name)
    if (rest.length === current.recipients.length) throw new AivaultError('not_found', `no recipient named ${name}`, {hint: 'see "aivault recipients list"'})
    if (rest.length === 0) {
      throw new AivaultError('invalid_request', `${name} is the last recipient: nobody could open the vault without them`, {
        hint: 'add another recipient first ("aivault recipients add"), or keep this one',
      })
    }
    return sealedRecipients(target.key, rest)
  }
  let result: RotateMasterResult = await rotateMaster(vault, {nextSettings, onProgress})
  // A resumed rotation finished what it had started; this removal still has to happen.
  if (result.settings.type === 'recipients' && result.settings.recipients.some((r) => r.name === name)) {
    result = await rotateMaster(vault, {nextSettings, onProgress})
  }
  const fingerprint = publicKeyFingerprint(removed.publicKey)
  await vault.audit.append('recipient.remove', {name, fingerprint, previousKekId: result.previousKekId, kekId: result.kekId, rewrapped: result.rewrapped})
  const after = result.settings as RecipientsSettings
  return {
    recipient: {name, publicKey: removed.publicKey, fingerprint},
    recipients: views(vault, after),
    previousKekId: result.previousKekId,
    kekId: result.kekId,
    secrets: result.secrets,
    rewrapped: result.rewrapped,
    removedYourself: removed.publicKey === myPublicKey(vault),
    rotateUpstream,
  }
}

/**
 * Switch a `file` vault to recipients, this process's identity (made when missing) being the
 * first member. The KEK is rotated on the way: anyone who was handed the old key file opens
 * nothing written afterwards. Crash-safe like rotate-master; re-running finishes the switch.
 */
export async function switchToRecipients(vault: Vault, options: {name?: string; onProgress?: (done: number, total: number) => void}): Promise<SwitchResult> {
  const config = vault.config()
  if (config.keyProvider.type === 'recipients') {
    const keyring = await vault.keyring()
    // Killed after vault.yaml switched: finish the rotation it was part of.
    if (!keyring.previous && !keyring.pending) {
      throw new AivaultError('conflict', 'this vault already uses the recipients key provider', {hint: 'add members with "aivault recipients add"'})
    }
  } else if (config.keyProvider.type !== 'file') {
    throw new AivaultError('invalid_request', `only a file vault can switch to recipients; this one uses ${config.keyProvider.type}`, {
      hint: 'create a recipients vault with "aivault init --provider recipients" and import the secrets again',
    })
  }
  const previousKeyFile = config.keyProvider.type === 'file' ? (vault.keyFilePath(config) ?? null) : null
  const name = options.name ?? defaultRecipientName()
  const identity = await creatorIdentity(vault)
  const nextSettings = async (target: {key: Uint8Array}, current: KeyProviderSettings): Promise<KeyProviderSettings> => {
    if (current.type !== 'file') throw new AivaultError('conflict', `this vault uses the ${current.type} key provider now`)
    return sealedRecipients(target.key, [{name, publicKey: identity.publicKey}])
  }
  let result = await rotateMaster(vault, {nextSettings, onProgress: options.onProgress})
  // A resumed plain rotation of the file vault finished first; now switch.
  if (result.settings.type === 'file') result = await rotateMaster(vault, {nextSettings, onProgress: options.onProgress})
  const settings = result.settings as RecipientsSettings
  await rememberCurrentKey(vault, identity.publicKey) // this clone trusts the key it just made
  for (const r of settings.recipients) await vault.audit.append('recipient.add', {name: r.name, fingerprint: publicKeyFingerprint(r.publicKey), kekId: result.kekId})
  return {
    previousProvider: 'file',
    previousKekId: result.previousKekId,
    kekId: result.kekId,
    secrets: result.secrets,
    rewrapped: result.rewrapped,
    identity,
    recipients: views(vault, settings),
    previousKeyFile,
  }
}

/** The first recipient of a new vault (init --provider recipients): this process's identity, made when missing. */
export async function firstRecipient(vault: Vault, kek: Uint8Array, name: string | undefined): Promise<{settings: RecipientsSettings; identity: IdentityInfo & {created: boolean}}> {
  const member = name ?? defaultRecipientName()
  const identity = await creatorIdentity(vault)
  return {settings: await sealedRecipients(kek, [{name: member, publicKey: identity.publicKey}]), identity}
}

/** Remember vault.yaml's KEK as the last this identity opened here; opening it verifies the MAC, not the chain. */
async function rememberCurrentKey(vault: Vault, publicKey: string): Promise<string> {
  vault.reload()
  const config = vault.config()
  const keyring = await loadKeyring(config, vault.keyProvider(config), vault.paths, {followChain: false})
  await rememberKek(vault.paths, config.vaultId, keyring.current, publicKey)
  vault.reload()
  return keyring.current.id
}

export interface AcceptKeyResult {
  /** The key this machine remembered before, if any. */
  previousKekId: string | null
  kekId: string
}

/**
 * Accept vault.yaml's KEK after reviewing how it changed (`git log -p vault.yaml`): for a
 * clone more than one key change behind, or after a replacement it refused. `kekId` must be
 * the one vault.yaml names, so a file that changed after the review is not accepted.
 */
export async function acceptKey(vault: Vault, kekId: string): Promise<AcceptKeyResult> {
  recipientsOf(vault)
  return vault.withLock(async () => {
    vault.reload()
    const config = vault.config()
    recipientsOf(vault)
    if (config.kekId !== kekId) {
      throw new AivaultError('conflict', `vault.yaml names master key ${config.kekId}, not ${kekId}`, {hint: 'vault.yaml changed since you reviewed it: review "git log -p vault.yaml" again'})
    }
    const publicKey = myPublicKey(vault)
    let previous: string | undefined
    try {
      previous = publicKey ? rememberedKekId(vault.paths, publicKey) : undefined
    } catch {
      previous = undefined // a malformed memory is what this replaces
    }
    // Without a readable identity, opening the key below says why.
    await rememberCurrentKey(vault, publicKey ?? '')
    await vault.audit.append('recipient.accept_key', {previousKekId: previous ?? null, kekId})
    return {previousKekId: previous ?? null, kekId}
  })
}

import * as fs from 'node:fs'

import {loosePermissions} from './doctor/doctor-files'
import {listRecordFiles} from './store/atomic-file'
import {readIdentityInfo} from './keys/identity'
import type {RecipientEntry} from './keys/key-providers/types'
import type {Vault} from './vault'

export interface VaultStatus {
  initialized: boolean
  vaultId: string | null
  provider: string | null
  locked: boolean
  kekId: string | null
  testing: boolean
  paths: {root: string; keyFile: string | null}
  counts: {secrets: number; credentials: number; capabilities: number}
  daemon: {running: boolean; socket: string}
  /** Files and folders with looser permissions than 0600/0700: the vault root by its path, the rest relative to it (as doctor names them). */
  permissionWarnings: string[]
}


/** Whether the identity at `file` is one of `recipients` (its public key, read without libsodium). */
function isRecipient(recipients: RecipientEntry[], file: string): boolean {
  try {
    const mine = readIdentityInfo(file)?.publicKey
    return mine !== undefined && recipients.some((r) => r.publicKey === mine)
  } catch {
    return false // malformed: the commands that need the key say so
  }
}

/** Read-only: never initializes, never loads a key or libsodium (SPEC §15). */
export interface DaemonView {
  running: boolean
  socket: string
  /** Whether the daemon holds this passphrase vault unlocked. */
  unlocked: boolean
}

export function vaultStatus(vault: Vault, customCapabilities: () => number, registryCapabilities: (providers: string[]) => number, daemonView: DaemonView): VaultStatus {
  const daemon = {running: daemonView.running, socket: daemonView.socket}
  if (!vault.exists()) {
    return {
      initialized: false,
      vaultId: null,
      provider: null,
      locked: true,
      kekId: null,
      testing: false,
      paths: {root: vault.paths.root, keyFile: null},
      counts: {secrets: 0, credentials: 0, capabilities: 0},
      daemon,
      permissionWarnings: [],
    }
  }
  const config = vault.config()
  const keyFile = vault.keyFilePath(config) ?? null
  const settings = config.keyProvider
  let locked: boolean
  if (settings.type === 'file') locked = !(keyFile && fs.existsSync(keyFile))
  else if (settings.type === 'env') locked = !vault.env[settings.envVar]
  else if (settings.type === 'recipients') locked = !isRecipient(settings.recipients, keyFile as string)
  else locked = !daemonView.unlocked
  const secretFiles = listRecordFiles(vault.paths.secretsDir)
  const credentials = vault.credentials.list().records
  // The same list doctor reports (and doctor --fix tightens).
  const permissionWarnings = loosePermissions(vault.paths.root, keyFile ?? undefined)
  return {
    initialized: true,
    vaultId: config.vaultId,
    provider: settings.type,
    locked,
    kekId: config.kekId,
    testing: config.testing,
    paths: {root: vault.paths.root, keyFile},
    counts: {
      secrets: secretFiles.length,
      credentials: credentials.length,
      capabilities: customCapabilities() + registryCapabilities([...new Set(credentials.map((c) => c.provider))]),
    },
    daemon,
    permissionWarnings,
  }
}

import {AivaultError} from '../errors'
import * as path from 'node:path'

import {writeFileAtomic} from './store/atomic-file'
import type {KeyProviderSettings} from './keys/key-providers/types'
import {KEY_PROVIDER_TYPES} from './keys/key-providers/types'
import {parseRecipientsSettings} from './keys/key-providers/recipients'
import type {VaultPaths} from './store/paths'
import type {Kek} from './keys/seal'
import {configMac, verifyConfigMac} from './keys/seal'
import {readYamlCached} from './store/record-folder'
import {toYaml} from './store/yaml-codec'

export const VAULT_FORMAT = 1

/** vault.yaml: format version, vault id, key provider metadata and a MAC (never a key). */
export interface VaultConfig {
  format: number
  vaultId: string
  createdAt: string
  testing: boolean
  keyProvider: KeyProviderSettings
  kekId: string
  mac: string
}

const tampered = (why: string): AivaultError =>
  new AivaultError('vault_tampered', `vault.yaml ${why}`, {hint: 'restore vault.yaml from git or a backup'})

export function readVaultConfig(paths: VaultPaths): VaultConfig | undefined {
  let read: ReturnType<typeof readYamlCached>
  try {
    read = readYamlCached(paths.vaultFile, path.join(paths.cacheDir, 'vault.json'))
  } catch (error) {
    throw tampered(`is not valid YAML: ${(error as Error).message}`)
  }
  return read.found ? parseVaultConfig(read.raw) : undefined
}

function parseKeyProvider(value: unknown): KeyProviderSettings {
  const v = (value ?? {}) as Record<string, unknown>
  if (!KEY_PROVIDER_TYPES.includes(v.type as never)) throw tampered(`names an unknown key provider ${JSON.stringify(v.type)}`)
  if (v.type === 'file') return v.keyFile === undefined ? {type: 'file'} : {type: 'file', keyFile: String(v.keyFile)}
  if (v.type === 'env') {
    if (typeof v.envVar !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v.envVar)) throw tampered('has an invalid keyProvider.envVar')
    return {type: 'env', envVar: v.envVar}
  }
  if (v.type === 'recipients') return parseRecipientsSettings(v, tampered)
  if (v.kdf !== 'argon2id13' || typeof v.salt !== 'string' || !Number.isInteger(v.opsLimit) || !Number.isInteger(v.memLimit)) {
    throw tampered('has invalid passphrase key settings')
  }
  return {type: 'passphrase', kdf: 'argon2id13', salt: v.salt, opsLimit: v.opsLimit as number, memLimit: v.memLimit as number}
}

export function parseVaultConfig(raw: unknown): VaultConfig {
  const v = (raw ?? {}) as Record<string, unknown>
  if (v.format !== VAULT_FORMAT) throw tampered(`has unsupported format ${JSON.stringify(v.format)}`)
  for (const field of ['vaultId', 'createdAt', 'kekId', 'mac'] as const) {
    if (v[field] === undefined) throw tampered(`is missing ${field}`)
    if (typeof v[field] !== 'string' || v[field] === '') throw tampered(`has an invalid ${field}`)
  }
  if (typeof v.testing !== 'boolean') throw tampered('is missing testing')
  return {
    format: VAULT_FORMAT,
    vaultId: v.vaultId as string,
    createdAt: v.createdAt as string,
    testing: v.testing,
    keyProvider: parseKeyProvider(v.keyProvider),
    kekId: v.kekId as string,
    mac: v.mac as string,
  }
}

/** The security settings the MAC covers, in a fixed order. */
function macMessage(config: Omit<VaultConfig, 'mac'>): string {
  // Code-unit order: the keys are fixed lower-case names (parseKeyProvider), for which it is the
  // order localeCompare gave, without ICU's ~10 ms first-use cost on every keyring open.
  const provider = Object.entries(config.keyProvider).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return JSON.stringify(['aivault vault.yaml v1', config.format, config.vaultId, config.testing, provider, config.kekId])
}

export async function signVaultConfig(config: Omit<VaultConfig, 'mac' | 'kekId'>, kek: Kek): Promise<VaultConfig> {
  const unsigned = {...config, kekId: kek.id}
  return {...unsigned, mac: await configMac(kek, macMessage(unsigned))}
}

/** Fails closed when vault.yaml's security settings were edited (provider and its recipients, testing flag, key id). */
export async function verifyVaultConfig(config: VaultConfig, kek: Kek): Promise<void> {
  if (config.kekId !== kek.id || !(await verifyConfigMac(kek, macMessage(config), config.mac))) {
    throw tampered('security settings do not match their MAC (provider, recipients, testing flag or key id was changed)')
  }
}

export function writeVaultConfig(paths: VaultPaths, config: VaultConfig): void {
  const ordered = {
    format: config.format,
    vaultId: config.vaultId,
    createdAt: config.createdAt,
    testing: config.testing,
    keyProvider: config.keyProvider,
    kekId: config.kekId,
    mac: config.mac,
  }
  writeFileAtomic(paths.vaultFile, toYaml(ordered))
}

import * as fs from 'node:fs'
import * as path from 'node:path'

import {AivaultError} from '../errors'
import {ensureDir, readFileIfExists, writeFileAtomic} from './atomic-file'
import {AuditLog} from './audit'
import type {VaultConfig} from './config'
import {readVaultConfig} from './config'
import {CredentialStore} from './credential-store'
import {EnvKeyProvider} from './key-providers/env'
import {FileKeyProvider} from './key-providers/file'
import {PassphraseKeyProvider} from './key-providers/passphrase'
import type {KeyProvider} from './key-providers/types'
import type {Keyring} from './keyring'
import {loadKeyring} from './keyring'
import {withFileLock} from './lock'
import type {VaultPaths} from './paths'
import {defaultKeyFile, resolveVaultPaths} from './paths'
import type {Binding, CapabilityPolicy, CustomCapability} from './broker-records'
import {
  parseBinding,
  parseCustomCapability,
  parsePolicy,
  serializeBinding,
  serializeCustomCapability,
  serializePolicy,
} from './broker-records'
import {RecordStore} from './record-store'
import {SecretStore} from './secret-store'

/**
 * One vault folder: its paths, config, record stores, keys and audit log. Nothing here is
 * read until asked for, so a command pays only for what it uses.
 */
export class Vault {
  readonly secrets: SecretStore
  readonly credentials: CredentialStore
  readonly audit: AuditLog
  readonly capabilities: RecordStore<CustomCapability>
  readonly policies: RecordStore<CapabilityPolicy>
  readonly bindings: RecordStore<Binding>
  private cachedConfig?: VaultConfig
  private cachedKeyring?: Promise<Keyring>

  constructor(
    readonly paths: VaultPaths,
    readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.secrets = new SecretStore(paths)
    this.credentials = new CredentialStore(paths)
    this.capabilities = new RecordStore(paths.capabilitiesDir, 'capabilities', parseCustomCapability, serializeCustomCapability)
    this.policies = new RecordStore(paths.policiesDir, 'policies', parsePolicy, serializePolicy)
    this.bindings = new RecordStore(paths.bindingsDir, 'bindings', parseBinding, serializeBinding)
    this.audit = new AuditLog(paths.auditDir, path.join(paths.runDir, 'audit.lock'), env.AIVAULT_DISABLE_DISK_LOGS === '1')
  }

  static fromEnv(env: NodeJS.ProcessEnv = process.env): Vault {
    return new Vault(resolveVaultPaths(env), env)
  }

  exists(): boolean {
    return fs.existsSync(this.paths.vaultFile)
  }

  config(): VaultConfig {
    if (!this.cachedConfig) {
      const config = readVaultConfig(this.paths)
      if (!config) {
        throw new AivaultError('vault_unavailable', `no vault at ${this.paths.root}`, {hint: 'run "aivault init" or set AIVAULT_DIR'})
      }
      this.cachedConfig = config
    }
    return this.cachedConfig
  }

  /** Forget cached config and keys, after this process changed them (init, rotate-master). */
  reload(): void {
    this.cachedConfig = undefined
    this.cachedKeyring = undefined
  }

  keyFilePath(config = this.config()): string | undefined {
    const settings = config.keyProvider
    if (settings.type !== 'file') return undefined
    return settings.keyFile ?? defaultKeyFile(this.paths, config.vaultId)
  }

  keyProvider(config = this.config()): KeyProvider {
    const settings = config.keyProvider
    switch (settings.type) {
      case 'file':
        return new FileKeyProvider(this.keyFilePath(config) as string)
      case 'env':
        return new EnvKeyProvider(settings.envVar, this.env)
      case 'passphrase':
        return new PassphraseKeyProvider(settings)
    }
  }

  /** The KEKs, loaded once per process; vault.yaml's MAC is verified on the way. */
  keyring(): Promise<Keyring> {
    this.cachedKeyring ??= loadKeyring(this.config(), this.keyProvider(), this.paths)
    return this.cachedKeyring
  }

  /** Multi-record operations hold the vault lock (run/lock). */
  withLock<T>(work: () => Promise<T> | T): Promise<T> {
    return withFileLock(this.paths.lockFile, work)
  }

  /** Create the folder skeleton and the .gitignore that keeps machine-local state out of git. */
  writeSkeleton(extraIgnores: string[] = []): void {
    for (const dir of [this.paths.root, this.paths.secretsDir, this.paths.credentialsDir, this.paths.runDir, this.paths.auditDir]) ensureDir(dir)
    const lines = ['# machine-local state, written by aivault init', 'run/', 'audit/', '*.tmp', ...extraIgnores]
    const wanted = lines.join('\n') + '\n'
    if (readFileIfExists(this.paths.gitignore) !== wanted) writeFileAtomic(this.paths.gitignore, wanted)
  }
}

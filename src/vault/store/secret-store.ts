import * as fs from 'node:fs'
import * as path from 'node:path'

import {AivaultError} from '../../errors'
import {fsyncDir, listRecordFiles, removeFileDurably, writeFileAtomic} from './atomic-file'
import type {VaultPaths} from './paths'
import {relativeToVault} from './paths'
import type {Keyring} from '../keys/keyring'
import {ParsedFileMemo, RecordFolder} from './record-folder'
import {decodeRecord, tamperedRecord} from './record-store'
import {associatedData, openValue, SealOpenError} from '../keys/seal'
import {readVaultFile} from './vault-file'
import type {SecretMeta, SecretRecord} from './secret-record'
import {parseSecretRecord, secretMeta, serializeSecret} from './secret-record'
import {toYaml} from './yaml-codec'

/** secrets/<id>.yaml, one file per secret. */
export class SecretStore {
  private readonly folder: RecordFolder<SecretMeta>

  constructor(
    private readonly paths: VaultPaths,
    listingReuseMs = 0,
  ) {
    this.folder = new RecordFolder<SecretMeta>(
      paths.secretsDir,
      (name) => `secrets/${name}`,
      (raw, file, name) => secretMeta(this.parse(raw, file, name)),
      {cache: {file: path.join(paths.cacheDir, 'secrets.json'), root: paths.root}, listingReuseMs},
    )
  }

  file(id: string): string {
    return path.join(this.paths.secretsDir, `${id}.yaml`)
  }

  relativeFile(id: string): string {
    return relativeToVault(this.paths, this.file(id))
  }

  private parse(raw: unknown, file: string, name: string): SecretRecord {
    const record = parseSecretRecord(raw, file)
    if (`${record.id}.yaml` !== name) throw tamperedRecord(file, 'id does not match the file name')
    return record
  }

  /** Metadata of every readable secret, plus the files that could not be read. No decryption. */
  list(): ReturnType<RecordFolder<SecretMeta>['list']> {
    return this.folder.list()
  }

  /**
   * One record, parsed. `fresh` bypasses every cache and reads the file as it is now (a
   * compare-and-swap under the vault lock must not judge by a stamp remembered earlier).
   */
  read(id: string, options: {fresh?: boolean} = {}): SecretRecord {
    if (!/^[0-9a-f-]{36}$/.test(id)) {
      if (!/[/\\]/.test(id) && fs.existsSync(this.file(id))) {
        throw new AivaultError('vault_tampered', `${this.relativeFile(id)}: invalid id in the file name`)
      }
      throw new AivaultError('secret_not_found', `no secret with id ${JSON.stringify(id)}`)
    }
    const relative = `secrets/${id}.yaml` // (built here, not by path.relative: this is a hot path)
    const parse = (text: string): SecretRecord => decodeRecord(text, relative, (raw) => this.parse(raw, relative, `${id}.yaml`))
    let record: SecretRecord | undefined
    if (options.fresh) {
      const text = readVaultFile(this.file(id), relative)
      record = text === undefined ? undefined : parse(text)
    } else {
      record = this.memo.read(this.file(id), relative, parse)
    }
    if (!record) throw new AivaultError('secret_not_found', `no secret with id ${id}`, {hint: 'see "aivault secrets list"'})
    return record
  }

  private readonly memo = new ParsedFileMemo<SecretRecord>()

  /** Every record parsed in full (one parse per file, no cache): for rotate-master. */
  readAll(): {records: SecretRecord[]; problems: {file: string; message: string}[]} {
    const records: SecretRecord[] = []
    const problems: {file: string; message: string}[] = []
    for (const name of listRecordFiles(this.paths.secretsDir)) {
      const id = name.slice(0, -'.yaml'.length)
      try {
        records.push(this.read(id))
      } catch (error) {
        if (!(error instanceof AivaultError)) throw error
        if (error.code === 'secret_not_found') continue // removed meanwhile
        problems.push({file: `secrets/${name}`, message: error.message.replace(`secrets/${name}: `, '')})
      }
    }
    return {records, problems}
  }

  /** Write a record; bulk writers pass `durable: false` and call `syncFolder()` once at the end. */
  write(record: SecretRecord, options: {durable?: boolean} = {}): void {
    writeFileAtomic(this.file(record.id), toYaml(serializeSecret(record)), {syncDir: options.durable !== false, root: this.paths.root})
  }

  syncFolder(): void {
    fsyncDir(this.paths.secretsDir)
  }

  remove(id: string): void {
    removeFileDurably(this.file(id))
  }

  /**
   * Decrypt a secret's value. Any failure (moved ciphertext, edited scope, pinned provider or
   * id, foreign key) is `vault_tampered` naming the file; other records are unaffected.
   */
  async open(record: SecretRecord, keyring: Keyring, vaultId: string): Promise<Uint8Array> {
    try {
      return await openValue(keyring.keys, record.sealed, associatedData(vaultId, record.id, record.scope, record.pinnedProvider ?? undefined, record.tenantHost))
    } catch (error) {
      if (!(error instanceof SealOpenError)) throw error
      throw new AivaultError('vault_tampered', `${this.relativeFile(record.id)}: ${error.message}`, {
        hint: 'restore the file from git or a backup; its sealed value or bound metadata (id, scope, pinned provider, tenant host) was changed',
      })
    }
  }
}

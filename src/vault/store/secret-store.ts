import * as fs from 'node:fs'
import * as path from 'node:path'

import {AivaultError} from '../../errors'
import {listRecordFiles} from './atomic-file'
import type {VaultPaths} from './paths'
import {relativeToVault} from './paths'
import type {Keyring} from '../keys/keyring'
import type {RecordFileNames} from './record-store'
import {RecordStore, tamperedRecord} from './record-store'
import {associatedData, openValue, SealOpenError} from '../keys/seal'
import type {SecretMeta, SecretRecord} from './secret-record'
import {parseSecretRecord, secretMeta, serializeSecret} from './secret-record'

/**
 * Secret ids are UUIDs, so a file is named by its id as it is (no percent-encoding): a name
 * that does not spell its record's id exactly is refused, as it always was.
 */
const SECRET_FILE_NAMES: RecordFileNames = {encode: (id) => `${id}.yaml`, decode: (name) => name.slice(0, -'.yaml'.length)}

function parseSecret(raw: unknown, file: string, id: string): SecretRecord {
  const record = parseSecretRecord(raw, file)
  if (record.id !== id) throw tamperedRecord(file, 'id does not match the file name')
  return record
}

/** secrets/<id>.yaml, one file per secret; a listing holds each secret's metadata, never its sealed value. */
export class SecretStore extends RecordStore<SecretRecord, SecretMeta> {
  constructor(
    private readonly paths: VaultPaths,
    listingReuseMs = 0,
  ) {
    super(paths.secretsDir, 'secrets', parseSecret, serializeSecret, {
      fileNames: SECRET_FILE_NAMES,
      listed: secretMeta,
      cache: {file: path.join(paths.cacheDir, 'secrets.json'), root: paths.root},
      listingReuseMs,
    })
  }

  relativeFile(id: string): string {
    return relativeToVault(this.paths, this.file(id))
  }

  /**
   * One record, parsed; `secret_not_found` when there is none. `fresh` bypasses every cache and
   * reads the file as it is now (a compare-and-swap under the vault lock must not judge by a
   * stamp remembered earlier).
   */
  read(id: string, options: {fresh?: boolean} = {}): SecretRecord {
    if (!/^[0-9a-f-]{36}$/.test(id)) {
      if (!/[/\\]/.test(id) && fs.existsSync(this.file(id))) {
        throw new AivaultError('vault_tampered', `${this.relativeFile(id)}: invalid id in the file name`)
      }
      throw new AivaultError('secret_not_found', `no secret with id ${JSON.stringify(id)}`)
    }
    const record = options.fresh ? this.findFresh(id) : this.find(id)
    if (!record) throw new AivaultError('secret_not_found', `no secret with id ${id}`, {hint: 'see "aivault secrets list"'})
    return record
  }

  /** Every record parsed in full (one parse per file, no cache): for rotate-master. */
  readAll(): {records: SecretRecord[]; problems: {file: string; message: string}[]} {
    const records: SecretRecord[] = []
    const problems: {file: string; message: string}[] = []
    for (const name of listRecordFiles(this.paths.secretsDir)) {
      const id = SECRET_FILE_NAMES.decode(name)
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

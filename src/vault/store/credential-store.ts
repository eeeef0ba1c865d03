import * as path from 'node:path'

import {AivaultError} from '../../errors'
import {VersionedMemo} from '../../versioned-memo'
import {removeFileDurably, writeFileAtomic} from './atomic-file'
import type {CredentialRecord} from './credential-record'
import {parseCredentialRecord, serializeCredential} from './credential-record'
import type {VaultPaths} from './paths'
import {decodeRecordFileName, encodeRecordFileName} from './paths'
import {ParsedFileMemo, RecordFolder} from './record-folder'
import {recordsVersion} from './stat-cache'
import {fromYaml, toYaml} from './yaml-codec'

/** credentials/<encoded id>.yaml, one file per credential (ids may contain ':'). */
export class CredentialStore {
  private readonly folder: RecordFolder<CredentialRecord>

  constructor(private readonly paths: VaultPaths) {
    this.folder = new RecordFolder<CredentialRecord>(
      paths.credentialsDir,
      (name) => `credentials/${name}`,
      (raw, file, name) => parseCredentialRecord(raw, file, decodeRecordFileName(name)),
      {file: path.join(paths.cacheDir, 'credentials.json'), root: paths.root},
    )
  }

  file(id: string): string {
    return path.join(this.paths.credentialsDir, encodeRecordFileName(id))
  }

  list(): ReturnType<RecordFolder<CredentialRecord>['list']> {
    return this.folder.list()
  }

  private readonly memo = new ParsedFileMemo<CredentialRecord>()
  /** Long-lived processes look a credential up on every call: reused while the folder is unchanged. */
  private readonly recent = new VersionedMemo<CredentialRecord | undefined>(recordsVersion)

  find(id: string): CredentialRecord | undefined {
    return this.recent.get(id, () => this.read(id))
  }

  private read(id: string): CredentialRecord | undefined {
    const relative = `credentials/${encodeRecordFileName(id)}`
    return this.memo.read(this.file(id), relative, (text) => {
      let raw: unknown
      try {
        raw = fromYaml(text)
      } catch (error) {
        throw new AivaultError('vault_tampered', `${relative}: malformed YAML: ${(error as Error).message}`)
      }
      return parseCredentialRecord(raw, relative, id)
    })
  }

  write(record: CredentialRecord): void {
    writeFileAtomic(this.file(record.id), toYaml(serializeCredential(record)), {root: this.paths.root})
  }

  remove(id: string): boolean {
    return removeFileDurably(this.file(id))
  }
}

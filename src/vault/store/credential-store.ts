import * as path from 'node:path'

import {VersionedMemo} from '../../versioned-memo'
import type {CredentialRecord} from './credential-record'
import {parseCredentialRecord, serializeCredential} from './credential-record'
import type {VaultPaths} from './paths'
import {RecordStore} from './record-store'
import {recordsVersion} from './stat-cache'

/** credentials/<encoded id>.yaml, one file per credential (ids may contain ':'). */
export class CredentialStore extends RecordStore<CredentialRecord> {
  /** Long-lived processes look a credential up on every call: reused while the folder is unchanged. */
  private readonly recent = new VersionedMemo<CredentialRecord | undefined>(recordsVersion)

  constructor(paths: VaultPaths, listingReuseMs = 0) {
    super(paths.credentialsDir, 'credentials', parseCredentialRecord, serializeCredential, {
      cache: {file: path.join(paths.cacheDir, 'credentials.json'), root: paths.root},
      listingReuseMs,
    })
  }

  override find(id: string): CredentialRecord | undefined {
    return this.recent.get(id, () => super.find(id))
  }
}

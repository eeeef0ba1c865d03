import * as path from 'node:path'

import {AivaultError} from '../../errors'
import {removeFileDurably, writeFileAtomic} from './atomic-file'
import {decodeRecordFileName, encodeRecordFileName} from './paths'
import type {RecordFolderOptions} from './record-folder'
import {ParsedFileMemo, RecordFolder} from './record-folder'
import {fromYaml, toYaml} from './yaml-codec'

/**
 * A record file's text as a record: YAML decoded, then validated by `parse`. Either step failing
 * is `vault_tampered` naming the file (relative to the vault root); the one place every record
 * store turns bytes into a record.
 */
export function decodeRecord<T>(text: string, file: string, parse: (raw: unknown) => T): T {
  let raw: unknown
  try {
    raw = fromYaml(text)
  } catch (error) {
    throw new AivaultError('vault_tampered', `${file}: malformed YAML: ${(error as Error).message}`)
  }
  return parse(raw)
}

/**
 * A folder of small YAML records keyed by id (credentials, custom capabilities, policies,
 * bindings): one file per record, deterministic bytes, atomic writes. `parse` validates a
 * record read from disk and throws `vault_tampered` naming the file; `serialize` fixes the key
 * order. `folder.cache` keeps the parsed listing under run/ (a folder listed on most commands);
 * `folder.listingReuseMs` is the run mode's.
 */
export class RecordStore<T extends {id: string}> {
  private readonly folder: RecordFolder<T>

  constructor(
    readonly dir: string,
    private readonly label: string,
    private readonly parse: (raw: unknown, file: string, id: string) => T,
    private readonly serialize: (record: T) => Record<string, unknown>,
    folder: RecordFolderOptions = {},
  ) {
    this.folder = new RecordFolder<T>(dir, (name) => `${label}/${name}`, (raw, file, name) => parse(raw, file, decodeRecordFileName(name)), folder)
  }

  file(id: string): string {
    return path.join(this.dir, encodeRecordFileName(id))
  }

  list(): {records: T[]; problems: {file: string; message: string}[]} {
    return this.folder.list()
  }

  private readonly memo = new ParsedFileMemo<T>()

  find(id: string): T | undefined {
    const file = `${this.label}/${encodeRecordFileName(id)}`
    return this.memo.read(this.file(id), file, (text) => decodeRecord(text, file, (raw) => this.parse(raw, file, id)))
  }

  write(record: T): void {
    // Record folders are direct children of the vault root.
    writeFileAtomic(this.file(record.id), toYaml(this.serialize(record)), {root: path.dirname(this.dir)})
  }

  remove(id: string): boolean {
    return removeFileDurably(this.file(id))
  }
}

/** A `vault_tampered` error for a record file. */
export function tamperedRecord(file: string, why: string): AivaultError {
  return new AivaultError('vault_tampered', `${file}: ${why}`, {hint: 'restore the file from git or a backup, or remove it'})
}

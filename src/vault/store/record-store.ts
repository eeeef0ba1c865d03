import * as path from 'node:path'

import {AivaultError} from '../../errors'
import {fsyncDir, removeFileDurably, writeFileAtomic} from './atomic-file'
import {decodeRecordFileName, encodeRecordFileName} from './paths'
import type {RecordFolderOptions} from './record-folder'
import {ParsedFileMemo, RecordFolder} from './record-folder'
import {readVaultFile} from './vault-file'
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

/** How ids become file names and back: percent-encoded by default (credential ids contain ':'). */
export interface RecordFileNames {
  encode(id: string): string
  decode(fileName: string): string
}

const ENCODED_NAMES: RecordFileNames = {encode: encodeRecordFileName, decode: decodeRecordFileName}

export interface RecordStoreOptions<T, L> extends RecordFolderOptions {
  fileNames?: RecordFileNames
  /** What a listing holds of each record (secrets list their metadata, never the sealed value). */
  listed?: (record: T) => L
}

/**
 * A folder of small YAML records keyed by id (secrets, credentials, custom capabilities,
 * policies, bindings): one file per record, deterministic bytes, atomic writes. `parse`
 * validates a record read from disk and throws `vault_tampered` naming the file; `serialize`
 * fixes the key order. `options.cache` keeps the parsed listing under run/ (a folder listed on
 * most commands); `options.listingReuseMs` is the run mode's. A listing holds `L`, each record
 * as `options.listed` projects it (the record itself by default).
 */
export class RecordStore<T extends {id: string}, L = T> {
  private readonly folder: RecordFolder<L>
  private readonly fileNames: RecordFileNames

  constructor(
    readonly dir: string,
    private readonly label: string,
    private readonly parse: (raw: unknown, file: string, id: string) => T,
    private readonly serialize: (record: T) => Record<string, unknown>,
    options: RecordStoreOptions<T, L> = {},
  ) {
    const fileNames = options.fileNames ?? ENCODED_NAMES
    const listed = options.listed ?? ((record: T) => record as unknown as L)
    this.fileNames = fileNames
    this.folder = new RecordFolder<L>(dir, (name) => `${label}/${name}`, (raw, file, name) => listed(parse(raw, file, fileNames.decode(name))), options)
  }

  file(id: string): string {
    return path.join(this.dir, this.fileNames.encode(id))
  }

  list(): {records: L[]; problems: {file: string; message: string}[]} {
    return this.folder.list()
  }

  private readonly memo = new ParsedFileMemo<T>()

  find(id: string): T | undefined {
    const file = `${this.label}/${this.fileNames.encode(id)}`
    return this.memo.read(this.file(id), file, (text) => decodeRecord(text, file, (raw) => this.parse(raw, file, id)))
  }

  /** The record as the file is now, past every cache (a compare-and-swap under the vault lock must not judge by a stamp remembered earlier). */
  findFresh(id: string): T | undefined {
    const file = `${this.label}/${this.fileNames.encode(id)}`
    const text = readVaultFile(this.file(id), file)
    return text === undefined ? undefined : decodeRecord(text, file, (raw) => this.parse(raw, file, id))
  }

  /** Bulk writers pass `durable: false` and sync the folder once at the end (syncFolder). */
  write(record: T, options: {durable?: boolean} = {}): void {
    // Record folders are direct children of the vault root.
    writeFileAtomic(this.file(record.id), toYaml(this.serialize(record)), {syncDir: options.durable !== false, root: path.dirname(this.dir)})
  }

  syncFolder(): void {
    fsyncDir(this.dir)
  }

  remove(id: string): boolean {
    return removeFileDurably(this.file(id))
  }
}

/** A `vault_tampered` error for a record file. */
export function tamperedRecord(file: string, why: string): AivaultError {
  return new AivaultError('vault_tampered', `${file}: ${why}`, {hint: 'restore the file from git or a backup, or remove it'})
}

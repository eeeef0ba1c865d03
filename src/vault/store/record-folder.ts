import * as fs from 'node:fs'
import * as path from 'node:path'

import {listRecordFiles, writeFileAtomic} from './atomic-file'
import {stampOf, statStamp} from './stat-cache'
import {readVaultFile, readVaultFileWithStat} from './vault-file'
import {fromYaml} from './yaml-codec'

/** A record file that could not be read as a record; reported by name and skipped. */
export interface RecordProblem {
  file: string
  message: string
}

interface CacheEntry<T> {
  stamp: string
  value?: T
  problem?: string
}

interface CacheFile<T> {
  version: number
  entries: Record<string, CacheEntry<T>>
}

const CACHE_VERSION = 1

export {statStamp} from './stat-cache'

/** Where a folder keeps its parsed records, and how long a listing may be reused. */
export interface RecordFolderOptions {
  /** The machine-local cache of parsed records (under the vault root's run/cache). */
  cache?: {file: string; root: string}
  /** How long a listing of the unchanged folder may be reused (RunMode.listingReuseMs; 0: never). */
  listingReuseMs?: number
}

/**
 * Lists one folder of YAML records (one file per record). Parsing YAML is the slow part of a
 * listing, so each file's parsed projection is kept in a machine-local cache under run/,
 * validated per file by its stat stamp the way git's index is. The YAML stays the truth:
 * the cache is only ever a copy, and a missing or corrupt cache is simply rebuilt.
 */
export class RecordFolder<T> {
  constructor(
    readonly dir: string,
    /** Record path relative to the vault root, for messages (`secrets/<id>.yaml`). */
    private readonly relative: (fileName: string) => string,
    /** Parse and validate one record; throw to report it as a problem. */
    private readonly project: (raw: unknown, relativeFile: string, fileName: string) => T,
    options: RecordFolderOptions = {},
  ) {
    this.cache = options.cache
    this.listingReuseMs = options.listingReuseMs ?? 0
  }

  private readonly cache?: {file: string; root: string}
  private readonly listingReuseMs: number

  /** The last listing, kept in memory by long-lived processes (aivaultd, serve). */
  private memory?: CacheFile<T>
  private lastListing?: {dirStamp: string | undefined; at: number; result: {records: T[]; problems: RecordProblem[]}}

  list(): {records: T[]; problems: RecordProblem[]} {
    // Long-lived processes: every write is a rename, which changes the folder's mtime, so an
    // unchanged folder means unchanged records; in-place edits are caught within a second.
    const reuseMs = this.listingReuseMs
    const dirStamp = reuseMs > 0 ? statStamp(this.dir) : undefined
    const last = this.lastListing
    if (last && reuseMs > 0 && last.dirStamp === dirStamp && Date.now() - last.at < reuseMs) {
      return {records: [...last.result.records], problems: [...last.result.problems]} // callers may sort or extend
    }
    const result = this.listFresh()
    if (reuseMs > 0) this.lastListing = {dirStamp, at: Date.now(), result}
    return result
  }

  private listFresh(): {records: T[]; problems: RecordProblem[]} {
    const names = listRecordFiles(this.dir)
    const cache = this.memory ?? this.readCache()
    const next: CacheFile<T> = {version: CACHE_VERSION, entries: {}}
    let changed = names.length !== Object.keys(cache.entries).length
    const records: T[] = []
    const problems: RecordProblem[] = []
    for (const name of names) {
      const file = path.join(this.dir, name)
      // Only a cached entry needs an lstat to be trusted; any other record is read, and its
      // stamp taken from the fstat that read makes anyway (a cold listing: one stat a record).
      let entry: CacheEntry<T> | undefined = cache.entries[name]
      if (!entry || entry.stamp !== statStamp(file)) {
        entry = this.load(file, name)
        if (entry === undefined) continue // removed while listing
        changed = true
      }
      next.entries[name] = entry
      if (entry.problem !== undefined) problems.push({file: this.relative(name), message: entry.problem})
      else records.push(entry.value as T)
    }
    if (changed) this.writeCache(next)
    this.memory = next
    return {records, problems}
  }

  /** Read and project one record; undefined when it is gone. */
  private load(file: string, name: string): CacheEntry<T> | undefined {
    let read: {text: string; stat: fs.BigIntStats} | undefined
    try {
      read = readVaultFileWithStat(file, this.relative(name))
    } catch (error) {
      // A link, special file or oversized file is a problem of this record alone, kept under
      // the stamp of what is there (a link's own).
      const stamp = statStamp(file)
      return stamp === undefined ? undefined : {stamp, problem: this.problemText(name, error)}
    }
    if (read === undefined) return undefined
    const stamp = stampOf(read.stat)
    let raw: unknown
    try {
      raw = fromYaml(read.text)
    } catch (error) {
      return {stamp, problem: `malformed YAML: ${(error as Error).message}`}
    }
    try {
      return {stamp, value: this.project(raw, this.relative(name), name)}
    } catch (error) {
      return {stamp, problem: this.problemText(name, error)}
    }
  }

  private problemText(name: string, error: unknown): string {
    const message = (error as Error).message
    const prefix = `${this.relative(name)}: `
    return message.startsWith(prefix) ? message.slice(prefix.length) : message
  }

  private readCache(): CacheFile<T> {
    if (!this.cache) return {version: CACHE_VERSION, entries: {}}
    try {
      const parsed = JSON.parse(readVaultFile(this.cache.file, 'run/cache', Infinity) ?? '{}') as CacheFile<T>
      if (parsed.version === CACHE_VERSION && parsed.entries && typeof parsed.entries === 'object') return parsed
    } catch {
      /* a corrupt cache is rebuilt */
    }
    return {version: CACHE_VERSION, entries: {}}
  }

  private writeCache(cache: CacheFile<T>): void {
    if (!this.cache) return
    try {
      writeFileAtomic(this.cache.file, JSON.stringify(cache), {root: this.cache.root})
    } catch {
      /* the cache is an optimization; a read-only run/ must not break listing */
    }
  }
}

/**
 * Parse one YAML file at the vault root (vault.yaml) through a JSON copy under run/cache,
 * validated by the file's stat stamp: commands that only read vault.yaml then never load the
 * YAML parser.
 */
export function readYamlCached(file: string, cacheFile: string): {found: false} | {found: true; raw: unknown} {
  const stamp = statStamp(file)
  if (stamp === undefined) return {found: false}
  try {
    const cached = JSON.parse(readVaultFile(cacheFile, 'run/cache', Infinity) ?? 'null') as {stamp?: string; raw?: unknown} | null
    if (cached && cached.stamp === stamp) return {found: true, raw: cached.raw}
  } catch {
    /* rebuilt below */
  }
  const root = path.dirname(file)
  const text = readVaultFile(file, path.basename(file))
  if (text === undefined) return {found: false}
  const raw = fromYaml(text)
  if (fs.existsSync(path.dirname(path.dirname(cacheFile)))) {
    try {
      writeFileAtomic(cacheFile, JSON.stringify({stamp, raw}), {root})
    } catch {
      /* the cache is an optimization */
    }
  }
  return {found: true, raw}
}

/**
 * Parse a single record file through a small in-memory memo validated by its stat stamp: a
 * long-lived process (aivaultd, serve) reads the same records on every call. A missing file
 * is `undefined`; the parse function decides what is valid.
 */
export class ParsedFileMemo<T> {
  private readonly entries = new Map<string, {stamp: string; value: T}>()

  /** `label` names the file in errors (a link or special file there is refused). */
  read(file: string, label: string, parse: (text: string) => T): T | undefined {
    const stamp = statStamp(file)
    if (stamp === undefined) {
      this.entries.delete(file)
      return undefined
    }
    const hit = this.entries.get(file)
    if (hit && hit.stamp === stamp) return hit.value
    const text = readVaultFile(file, label)
    if (text === undefined) return undefined
    const value = parse(text)
    if (this.entries.size > 10_000) this.entries.clear()
    this.entries.set(file, {stamp, value})
    return value
  }
}

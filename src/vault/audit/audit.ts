import * as fs from 'node:fs'
import * as path from 'node:path'

import {AivaultError} from '../../errors'
import {flushFile, lastLine, openHead, writeDurably, writeHead} from './audit-files'
import {withFileLock} from '../store/lock'
import {statStamp} from '../store/record-folder'
import {ensureVaultDir, entryKind, readVaultFile, refusedEntry} from '../store/vault-file'

export const AUDIT_GENESIS = '0'.repeat(64)

/** One audit event; `prev` chains it to the event before (SPEC §12). Never a secret value. */
export interface AuditEvent {
  ts: string
  kind: string
  prev: string
  [field: string]: unknown
}

export interface AuditBreak {
  file: string
  line: number
  reason: string
}

export interface AuditQuery {
  limit: number
  beforeMs?: number
  kind?: string
}

/**
 * Content digests here are plain SHA-256 from node:crypto: they protect no secret, and
 * loading libsodium for them would slow every write command.
 */
let crypto: typeof import('node:crypto') | undefined
const hashLine = (line: string | Buffer): string => {
  crypto ??= require('node:crypto') as typeof import('node:crypto')
  // crypto.hash (Node >= 20.12) is the one-shot form, about twice as fast as createHash, and
  // faster still given bytes rather than a string.
  return crypto.hash ? crypto.hash('sha256', line, 'hex') : crypto.createHash('sha256').update(line).digest('hex')
}

/**
 * An event not yet written: its fields already serialized, so a queue of thousands holds one
 * flat string each (a busy server's garbage collector copies whatever is still queued).
 */
interface PendingEvent {
  kind: string
  fieldsJson: string
  /** When it was appended (ms). */
  at: number
}

const RESERVED_FIELDS = ['ts', 'kind', 'prev']

function serializeFields(fields: Record<string, unknown>): string {
  for (const name of RESERVED_FIELDS) if (name in fields) throw new Error(`audit field ${name} is reserved`)
  return JSON.stringify(fields)
}

/** The last kind's JSON (a group is mostly one kind). */
let kindJson = {kind: '', json: '""'}

/** The event's line: the same text as JSON.stringify({ts, kind, ...fields, prev}). */
function eventLine(event: PendingEvent, ts: string, prev: string): string {
  const fields = event.fieldsJson.length > 2 ? `${event.fieldsJson.slice(1, -1)},` : ''
  if (kindJson.kind !== event.kind) kindJson = {kind: event.kind, json: JSON.stringify(event.kind)}
  return `{"ts":"${ts}","kind":${kindJson.json},${fields}"prev":"${prev}"}`
}

/** Room for an event's line beyond its fields: ts, kind, prev and the punctuation (bytes). */
const LINE_OVERHEAD = 160

/** A group's lines, encoded one after another (each followed by a newline) into one buffer that grows when needed. */
class GroupBuffer {
  private buffer: Buffer
  used = 0

  constructor(events: PendingEvent[]) {
    let size = 0
    for (const event of events) size += event.fieldsJson.length + event.kind.length + LINE_OVERHEAD
    this.buffer = Buffer.allocUnsafe(size)
  }

  /** Encode `line` and a newline; the line's bytes (without the newline) are returned. */
  append(line: string): Buffer {
    // UTF-8 takes at most three bytes per UTF-16 unit.
    const room = line.length * 3 + 1
    if (this.buffer.length - this.used < room) {
      const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.used + room))
      this.buffer.copy(grown, 0, 0, this.used)
      this.buffer = grown
    }
    const start = this.used
    const end = start + this.buffer.write(line, start)
    this.buffer[end] = 0x0a
    this.used = end + 1
    return this.buffer.subarray(start, end)
  }

  bytes(start: number, end: number): Buffer {
    return this.buffer.subarray(start, end)
  }
}

const DAY_MS = 86_400_000
const DONE = Promise.resolve()
const DAY_FILE = /^\d{4}-\d{2}-\d{2}\.jsonl$/

/**
 * Append-only JSONL under audit/, one file per UTC day, hash-chained across files. A small
 * `head` file records the last event's hash so that editing or dropping the newest line is
 * detected too. Appends from concurrent processes serialize on run/audit.lock. Nothing here is
 * opened through a link: a link (or special file) in place of the log is refused.
 */
export class AuditLog {
  /** The vault root: audit/ and run/ are its folders. */
  private readonly root: string
  private readonly disabled: boolean
  /**
   * Long-lived processes (aivaultd, serve) commit events in groups: while one group is being
   * written (lock, append, fsync), every event that arrives joins the next one, and under load
   * groups start at most every `groupIntervalMs`. The fixed cost of a group (mostly the kernel's
   * work for two fdatasyncs) was serve's largest cost per call at 20 ms groups. Every append of
   * a group gets the group's promise, settled when the group is on disk. Undefined (a one-shot
   * process, RunMode.auditGroupMs): each append is written before it returns.
   */
  private readonly groupIntervalMs?: number

  constructor(
    readonly dir: string,
    private readonly lockFile: string,
    options: {disabled?: boolean; groupIntervalMs?: number} = {},
  ) {
    this.root = path.dirname(dir)
    this.disabled = options.disabled ?? process.env.AIVAULT_DISABLE_DISK_LOGS === '1'
    this.groupIntervalMs = options.groupIntervalMs
  }

  private get headFile(): string {
    return path.join(this.dir, 'head')
  }

  private dayFiles(): string[] {
    const st = fs.lstatSync(this.dir, {throwIfNoEntry: false})
    if (!st) return []
    if (!st.isDirectory()) throw refusedEntry('audit', `is ${entryKind(st)}, not a folder`)
    return fs.readdirSync(this.dir).filter((name) => DAY_FILE.test(name)).sort()
  }

  /** Set inside batch(): events are written at once, flushed to disk once at the end. */
  private bulk?: {files: Set<string>}

  /** Not an async function: a busy server's call returns its group's promise itself, with no wrapper. */
  append(kind: string, fields: Record<string, unknown> = {}): Promise<void> {
    if (this.disabled) return DONE
    let fieldsJson: string
    try {
      fieldsJson = serializeFields(fields)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.appendJson(kind, fieldsJson)
  }

  /**
   * Append an event whose fields are already JSON: the text of an object with no `ts`, `kind`
   * or `prev` field (the broker builds most of each call's event once per route).
   */
  appendJson(kind: string, fieldsJson: string): Promise<void> {
    if (this.disabled) return DONE
    const event: PendingEvent = {kind, fieldsJson, at: Date.now()}
    if (this.bulk) return this.write([event], this.bulk.files)
    if (this.groupIntervalMs !== undefined) return this.enqueue(event)
    return this.write([event])
  }

  private next?: {events: PendingEvent[]; written: Promise<void>; settle: (error?: Error) => void}
  private writer?: Promise<void>
  private lastGroupAt = 0

  private enqueue(event: PendingEvent): Promise<void> {
    if (!this.next) {
      let settle!: (error?: Error) => void
      const written = new Promise<void>((resolve, reject) => {
        settle = (error) => (error ? reject(error) : resolve())
      })
      this.next = {events: [], written, settle}
    }
    this.next.events.push(event)
    // The first group waits one turn of the event loop, so calls arriving together share it.
    this.writer ??= new Promise<void>((r) => setImmediate(r)).then(() => this.drain())
    return this.next.written
  }

  /** Settles once every event appended so far is written (a stopping server waits for it). */
  async flush(): Promise<void> {
    while (this.writer) await this.writer
  }

  private async drain(): Promise<void> {
    while (this.next) {
      // Fewer, larger groups share the lock and the fsyncs (an idle server still writes an event at once).
      const wait = this.lastGroupAt + (this.groupIntervalMs ?? 0) - Date.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      this.lastGroupAt = Date.now()
      const group = this.next
      this.next = undefined
      let failure: Error | undefined
      try {
        await this.write(group.events)
      } catch (error) {
        failure = error as Error
      }
      group.settle(failure)
    }
    this.writer = undefined
  }

  /**
   * Bulk operations (import, rotate-master): each event `work` appends is written before its
   * append returns, so a process killed part-way leaves every record it wrote with its event
   * (SPEC §12); the flush to disk is paid once, at the end.
   */
  async batch<T>(work: () => Promise<T>): Promise<T> {
    if (this.disabled || this.bulk) return work()
    const batch = {files: new Set<string>()}
    this.bulk = batch
    try {
      return await work()
    } finally {
      this.bulk = undefined
      for (const file of batch.files) await flushFile(file, path.relative(this.root, file))
    }
  }

  /** Append `events`; with `unflushed`, the files written are added to it instead of flushed. */
  private async write(events: PendingEvent[], unflushed?: Set<string>): Promise<void> {
    ensureVaultDir(this.root, this.dir)
    await withFileLock(this.lockFile, async () => {
      // Chain to the last line actually on disk: a crash between appending a line and updating
      // head must not fork the chain.
      let prev = this.lastHashOnDisk()
      // Events arrive in time order: a new file (and a new time text) only when the day (the millisecond) changes.
      // Each line is encoded once, straight into one buffer for the group: its bytes are hashed
      // where they lie and written from there (no buffer per line, no copy to join them).
      const byFile: Array<{name: string; start: number; end: number}> = []
      const lines = new GroupBuffer(events)
      let day = -1
      let at = -1
      let ts = ''
      for (const event of events) {
        if (event.at !== at) {
          at = event.at
          ts = new Date(at).toISOString()
        }
        if (Math.floor(at / DAY_MS) !== day) {
          day = Math.floor(at / DAY_MS)
          byFile.push({name: `${ts.slice(0, 10)}.jsonl`, start: lines.used, end: lines.used})
        }
        prev = hashLine(lines.append(eventLine(event, ts, prev)))
        byFile[byFile.length - 1].end = lines.used
      }
      // head is opened first: a link there is refused before any line is appended.
      const head = openHead(this.headFile)
      try {
        // Asynchronous I/O: a long-lived server keeps answering while the log is flushed.
        for (const {name, start, end} of byFile) {
          const file = path.join(this.dir, name)
          await writeDurably(file, `audit/${name}`, lines.bytes(start, end), !unflushed)
          unflushed?.add(file)
        }
        await writeHead(this.headFile, head, prev, !unflushed)
      } finally {
        if (head) fs.closeSync(head.fd)
      }
      unflushed?.add(this.headFile)
      const last = byFile[byFile.length - 1].name
      this.lastWritten = {stamp: statStamp(path.join(this.dir, last)), file: last, hash: prev}
    }, this.root)
  }

  /** What this process appended last, reused while the file is exactly as it left it. */
  private lastWritten?: {file: string; stamp: string | undefined; hash: string}

  private lastHashOnDisk(): string {
    const known = this.lastWritten
    const files = this.dayFiles()
    if (known && files[files.length - 1] === known.file && statStamp(path.join(this.dir, known.file)) === known.stamp) return known.hash
    return this.lastHashFromFiles()
  }

  /** The hash in head; undefined when it is missing or unreadable JSON (a link there is refused). */
  private readHead(): {hash: string} | undefined {
    const text = readVaultFile(this.headFile, 'audit/head') ?? 'null'
    try {
      const head = JSON.parse(text)
      return head && typeof head.hash === 'string' ? head : undefined
    } catch {
      return undefined
    }
  }

  /** Hash of the newest line on disk (the genesis value for an empty log). */
  private lastHashFromFiles(): string {
    const files = this.dayFiles()
    for (let i = files.length - 1; i >= 0; i--) {
      const line = lastLine(path.join(this.dir, files[i]), `audit/${files[i]}`)
      if (line !== undefined) return hashLine(line)
    }
    return AUDIT_GENESIS
  }

  private lines(name: string): string[] {
    const text = readVaultFile(path.join(this.dir, name), `audit/${name}`, Infinity) ?? ''
    return text.split('\n').filter((line) => line.length > 0)
  }

  /** Events newest first, filtered by kind and time. */
  read(query: AuditQuery): AuditEvent[] {
    const events: AuditEvent[] = []
    const files = this.dayFiles().reverse()
    for (const name of files) {
      const lines = this.lines(name).reverse()
      for (const line of lines) {
        let event: AuditEvent
        try {
          event = JSON.parse(line)
        } catch {
          continue
        }
        if (query.kind && event.kind !== query.kind) continue
        if (query.beforeMs !== undefined && !(Date.parse(event.ts) < query.beforeMs)) continue
        events.push(event)
        if (events.length >= query.limit) return events
      }
    }
    return events
  }

  /**
   * Walk the whole chain; the first edited, removed or reordered line is reported, and so is a
   * link or special file in place of the log (never followed).
   */
  verify(): {events: number; files: number; break?: AuditBreak} {
    try {
      return this.verifyChain()
    } catch (error) {
      if (!(error instanceof AivaultError && error.code === 'vault_tampered')) throw error
      const [file, ...why] = error.message.split(': ')
      return {events: 0, files: 0, break: {file, line: 1, reason: why.join(': ')}}
    }
  }

  private verifyChain(): {events: number; files: number; break?: AuditBreak} {
    let prev = AUDIT_GENESIS
    let count = 0
    const files = this.dayFiles()
    for (const name of files) {
      const lines = this.lines(name)
      for (let i = 0; i < lines.length; i++) {
        const at = {file: `audit/${name}`, line: i + 1}
        let event: AuditEvent
        try {
          event = JSON.parse(lines[i])
        } catch {
          return {events: count, files: files.length, break: {...at, reason: 'line is not valid JSON'}}
        }
        if (event.prev !== prev) {
          return {events: count, files: files.length, break: {...at, reason: 'does not chain to the line before it (a line was edited, removed or reordered)'}}
        }
        prev = hashLine(lines[i])
        count++
      }
    }
    const head = this.readHead()
    // A process killed between appending and updating head also shows here, until the next
    // append (which chains to the line on disk) brings head up to date.
    if (head && head.hash !== prev) {
      const lastFile = files[files.length - 1]
      const at = lastFile ? {file: `audit/${lastFile}`, line: this.lines(lastFile).length} : {file: 'audit/head', line: 1}
      return {events: count, files: files.length, break: {...at, reason: 'the newest event does not match audit/head (the last line was edited or removed)'}}
    }
    return {events: count, files: files.length}
  }
}

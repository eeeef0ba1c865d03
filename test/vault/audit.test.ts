/**
 * Unit tests of the hash-chained audit log (SPEC §12) on a temp folder: append, verify, and
 * detection of edited, removed, reordered and trailing lines, across per-UTC-day files.
 */
import assert from 'node:assert/strict'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import type {AuditEvent} from '../../src/vault/audit/audit'
import {AUDIT_GENESIS, AuditLog} from '../../src/vault/audit/audit'

const sha256 = (line: string): string => crypto.createHash('sha256').update(line).digest('hex')

const RealDate = Date

/** Run `work` with `new Date()` (no arguments) and `Date.now()` at `iso`; Date(x) stays real. */
async function atTime<T>(iso: string, work: () => Promise<T>): Promise<T> {
  const fixed = RealDate.parse(iso)
  class FakeDate extends RealDate {
    static now(): number {
      return fixed
    }

    constructor(...args: unknown[]) {
      if (args.length === 0) super(fixed)
      else super(...(args as [number]))
    }
  }
  globalThis.Date = FakeDate as DateConstructor
  try {
    return await work()
  } finally {
    globalThis.Date = RealDate
  }
}

describe('audit log (src/vault/audit/audit.ts)', () => {
  let base: string
  let dir: string
  let lockFile: string
  let log: AuditLog

  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-audit-unit-'))
    dir = path.join(base, 'audit')
    lockFile = path.join(base, 'run', 'audit.lock')
    log = new AuditLog(dir, lockFile, {disabled: false})
  })

  afterEach(() => {
    globalThis.Date = RealDate
    fs.rmSync(base, {recursive: true, force: true})
  })

  const dayFiles = (): string[] => fs.readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort()
  const onlyFile = (): string => {
    const files = dayFiles()
    assert.equal(files.length, 1, `expected one day file, found ${files.join(', ')}`)
    return path.join(dir, files[0])
  }
  const readLines = (file: string): string[] => fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0)
  const writeLines = (file: string, lines: string[]): void => fs.writeFileSync(file, lines.map((l) => l + '\n').join(''))

  async function appendN(n: number, kind = 'secret.create'): Promise<void> {
    for (let i = 0; i < n; i++) await log.append(kind, {secretId: `id-${i}`, name: `NAME_${i}`})
  }

  it('appends JSONL events chained by prev = sha256 of the previous line, and verifies', async () => {
    await appendN(5)
    const file = onlyFile()
    assert.equal(path.basename(file), `${new RealDate().toISOString().slice(0, 10)}.jsonl`)
    const lines = readLines(file)
    assert.equal(lines.length, 5)
    let prev = AUDIT_GENESIS
    for (const [i, line] of lines.entries()) {
      const event = JSON.parse(line) as AuditEvent
      assert.equal(event.kind, 'secret.create')
      assert.equal(event.name, `NAME_${i}`)
      assert.ok(!Number.isNaN(RealDate.parse(event.ts)))
      assert.equal(event.prev, prev, `line ${i + 1} chains to the line before`)
      prev = sha256(line)
    }
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'head'), 'utf8')), {hash: prev})
    assert.deepEqual(log.verify(), {events: 5, files: 1})
  })

  it('writes each line exactly as JSON.stringify({ts, kind, ...fields, prev}) would, fields in order', async () => {
    const fieldSets: Array<Record<string, unknown>> = [
      {},
      {quote: 'say "hi"\\ \n\t', unicode: 'héllo ✓ \u2028', skipped: undefined},
      {nested: {a: [1, null, true], b: {c: 'd'}}, n: -1.5e-7, empty: ''},
    ]
    log = new AuditLog(dir, lockFile, {disabled: false, groupIntervalMs: 20})
    await Promise.all(fieldSets.map((fields) => log.append('kind.with "quote"', fields)))
    const lines = readLines(onlyFile())
    assert.equal(lines.length, 3)
    for (const [i, line] of lines.entries()) {
      const {ts, prev} = JSON.parse(line) as AuditEvent
      assert.equal(line, JSON.stringify({ts, kind: 'kind.with "quote"', ...fieldSets[i], prev}))
    }
    assert.deepEqual(log.verify(), {events: 3, files: 1})
  })

  it('appendJson writes the same line as append given the same fields as JSON', async () => {
    const fields = {capability: 'openai/models', clientIp: '127.0.0.1', path: '/v1/models', status: 200, durationMs: 3}
    log = new AuditLog(dir, lockFile, {disabled: false, groupIntervalMs: 20})
    await log.append('capability.invoke', fields)
    await log.appendJson('capability.invoke', JSON.stringify(fields))
    const [first, second] = readLines(onlyFile()).map((line) => JSON.parse(line) as AuditEvent)
    assert.deepEqual(Object.keys(second), Object.keys(first))
    assert.deepEqual({...second, ts: 0, prev: 0}, {...first, ts: 0, prev: 0})
    assert.deepEqual(log.verify(), {events: 2, files: 1})
  })

  it('refuses fields that would shadow ts, kind or prev, writing nothing', async () => {
    for (const name of ['ts', 'kind', 'prev']) {
      await assert.rejects(log.append('secret.create', {[name]: 'forged'}), /reserved/)
    }
    assert.deepEqual(log.verify(), {events: 0, files: 0})
  })

  it('verifies an empty or missing log', () => {
    assert.deepEqual(log.verify(), {events: 0, files: 0})
  })

  it('reports an edited middle line at the line that follows it', async () => {
    await appendN(6)
    const file = onlyFile()
    const lines = readLines(file)
    const event = JSON.parse(lines[2])
    event.name = 'EDITED'
    lines[2] = JSON.stringify(event)
    writeLines(file, lines)
    const result = log.verify()
    assert.ok(result.break, 'a break is reported')
    assert.equal(result.break.file, `audit/${path.basename(file)}`)
    assert.equal(result.break.line, 4)
    assert.equal(result.events, 3, 'events before the break are counted')
  })

  it('reports a one-character edit that keeps the JSON valid', async () => {
    await appendN(4)
    const file = onlyFile()
    const text = fs.readFileSync(file, 'utf8')
    const lines = readLines(file)
    // Change one digit inside the second line's timestamp.
    const ts = (JSON.parse(lines[1]) as AuditEvent).ts
    const changedTs = ts.replace(/\d(?=Z$)/, (d) => String((Number(d) + 1) % 10))
    fs.writeFileSync(file, text.replace(ts, changedTs))
    const result = log.verify()
    assert.equal(result.break?.line, 3)
  })

  it('reports a line that is not JSON', async () => {
    await appendN(3)
    const file = onlyFile()
    const lines = readLines(file)
    lines[1] = lines[1].slice(0, -1)
    writeLines(file, lines)
    const result = log.verify()
    assert.equal(result.break?.line, 2)
    assert.match(result.break?.reason ?? '', /JSON/)
  })

  it('reports a removed middle line at the line that took its place', async () => {
    await appendN(5)
    const file = onlyFile()
    const lines = readLines(file)
    lines.splice(1, 1)
    writeLines(file, lines)
    const result = log.verify()
    assert.equal(result.break?.file, `audit/${path.basename(file)}`)
    assert.equal(result.break?.line, 2)
  })

  it('reports a removed first line', async () => {
    await appendN(3)
    const file = onlyFile()
    writeLines(file, readLines(file).slice(1))
    assert.equal(log.verify().break?.line, 1)
  })

  it('reports two swapped lines at the first swapped position', async () => {
    await appendN(6)
    const file = onlyFile()
    const lines = readLines(file)
    ;[lines[2], lines[3]] = [lines[3], lines[2]]
    writeLines(file, lines)
    assert.equal(log.verify().break?.line, 3)
  })

  it('reports swapped non-adjacent lines', async () => {
    await appendN(6)
    const file = onlyFile()
    const lines = readLines(file)
    ;[lines[1], lines[4]] = [lines[4], lines[1]]
    writeLines(file, lines)
    assert.equal(log.verify().break?.line, 2)
  })

  it('detects an edited last line through audit/head', async () => {
    await appendN(4)
    const file = onlyFile()
    const lines = readLines(file)
    const last = JSON.parse(lines[3])
    last.name = 'EDITED'
    lines[3] = JSON.stringify(last)
    writeLines(file, lines)
    const result = log.verify()
    assert.ok(result.break, 'editing the newest line is detected')
    assert.equal(result.break.file, `audit/${path.basename(file)}`)
    assert.equal(result.break.line, 4)
    assert.match(result.break.reason, /head/)
  })

  it('detects a removed last line through audit/head', async () => {
    await appendN(4)
    const file = onlyFile()
    writeLines(file, readLines(file).slice(0, 3))
    const result = log.verify()
    assert.ok(result.break, 'dropping the newest line is detected')
    assert.equal(result.break.file, `audit/${path.basename(file)}`)
  })

  it('detects an appended forged line that does not match the head', async () => {
    await appendN(2)
    const file = onlyFile()
    const lines = readLines(file)
    const forged = JSON.stringify({ts: new RealDate().toISOString(), kind: 'secret.delete', prev: sha256(lines[1])})
    writeLines(file, [...lines, forged])
    assert.ok(log.verify().break, 'a line appended behind the log is detected')
  })

  it('keeps appending after the head file is lost, chaining to the last line on disk', async () => {
    await appendN(3)
    fs.rmSync(path.join(dir, 'head'))
    assert.deepEqual(log.verify(), {events: 3, files: 1})
    await appendN(2, 'secret.rotate')
    assert.deepEqual(log.verify(), {events: 5, files: 1})
    const lines = readLines(onlyFile())
    assert.equal((JSON.parse(lines[3]) as AuditEvent).prev, sha256(lines[2]))
  })

  it('starts a new file per UTC day that chains to the previous day', async () => {
    await atTime('2025-03-01T23:59:58.000Z', () => appendN(2, 'vault.init'))
    // Still before midnight UTC: the same file.
    await atTime('2025-03-01T23:59:59.500Z', () => log.append('secret.create', {secretId: 'a'}))
    await atTime('2025-03-02T00:00:01.000Z', () => log.append('secret.create', {secretId: 'b'}))
    await atTime('2025-03-02T12:00:00.000Z', () => log.append('secret.rotate', {secretId: 'b'}))
    await atTime('2025-03-04T08:00:00.000Z', () => log.append('secret.delete', {secretId: 'b'}))
    assert.deepEqual(dayFiles(), ['2025-03-01.jsonl', '2025-03-02.jsonl', '2025-03-04.jsonl'])

    const day1 = readLines(path.join(dir, '2025-03-01.jsonl'))
    const day2 = readLines(path.join(dir, '2025-03-02.jsonl'))
    const day4 = readLines(path.join(dir, '2025-03-04.jsonl'))
    assert.deepEqual([day1.length, day2.length, day4.length], [3, 2, 1])
    assert.equal((JSON.parse(day2[0]) as AuditEvent).prev, sha256(day1[2]), 'first line of a day chains to the last line of the day before')
    assert.equal((JSON.parse(day4[0]) as AuditEvent).prev, sha256(day2[1]))
    assert.deepEqual(log.verify(), {events: 6, files: 3})

    // Reading spans files, newest first.
    const events = log.read({limit: 10})
    assert.deepEqual(
      events.map((e) => e.kind),
      ['secret.delete', 'secret.rotate', 'secret.create', 'secret.create', 'vault.init', 'vault.init'],
    )
    assert.deepEqual(log.read({limit: 10, beforeMs: RealDate.parse('2025-03-02T00:00:00Z')}).length, 3)
    assert.deepEqual(
      log.read({limit: 10, kind: 'secret.create'}).map((e) => e.secretId),
      ['b', 'a'],
    )
  })

  it('detects a removed whole day file at the first line of the next day', async () => {
    await atTime('2025-03-01T10:00:00.000Z', () => appendN(2))
    await atTime('2025-03-02T10:00:00.000Z', () => appendN(2))
    await atTime('2025-03-03T10:00:00.000Z', () => appendN(2))
    assert.equal(log.verify().break, undefined)
    fs.rmSync(path.join(dir, '2025-03-02.jsonl'))
    const result = log.verify()
    assert.deepEqual(result.break && {file: result.break.file, line: result.break.line}, {file: 'audit/2025-03-03.jsonl', line: 1})
  })

  it('detects a line moved from one day file to another', async () => {
    await atTime('2025-03-01T10:00:00.000Z', () => appendN(3))
    await atTime('2025-03-02T10:00:00.000Z', () => appendN(2))
    const f1 = path.join(dir, '2025-03-01.jsonl')
    const f2 = path.join(dir, '2025-03-02.jsonl')
    const l1 = readLines(f1)
    const l2 = readLines(f2)
    // The last line of day 1 moved into the middle of day 2.
    writeLines(f1, l1.slice(0, 2))
    writeLines(f2, [l2[0], l1[2], l2[1]])
    const result = log.verify()
    assert.equal(result.break?.file, 'audit/2025-03-02.jsonl')
    assert.equal(result.break?.line, 1)
  })

  it('reads newest first with limit, kind and before filters', async () => {
    await atTime('2025-05-01T10:00:00.000Z', () => log.append('vault.init', {n: 1}))
    await atTime('2025-05-01T10:00:01.000Z', () => log.append('secret.create', {n: 2}))
    await atTime('2025-05-01T10:00:02.000Z', () => log.append('secret.pin', {n: 3}))
    await atTime('2025-05-01T10:00:03.000Z', () => log.append('secret.create', {n: 4}))
    assert.deepEqual(
      log.read({limit: 200}).map((e) => e.n),
      [4, 3, 2, 1],
    )
    assert.deepEqual(
      log.read({limit: 2}).map((e) => e.n),
      [4, 3],
    )
    assert.deepEqual(
      log.read({limit: 200, kind: 'secret.create'}).map((e) => e.n),
      [4, 2],
    )
    assert.deepEqual(
      log.read({limit: 200, beforeMs: RealDate.parse('2025-05-01T10:00:02.000Z')}).map((e) => e.n),
      [2, 1],
      'before is strict',
    )
    assert.deepEqual(
      log.read({limit: 1, kind: 'secret.create', beforeMs: RealDate.parse('2025-05-01T10:00:03.000Z')}).map((e) => e.n),
      [2],
    )
  })

  it('chains to a last line longer than the tail it first reads, written by another process', async () => {
    await log.append('big.event', {blob: 'x'.repeat(100_000)})
    // A second log object (another process) has no memory of what the first wrote.
    const other = new AuditLog(dir, lockFile, {disabled: false})
    await other.append('after.big', {n: 1})
    await other.append('after.after', {n: 2})
    const lines = readLines(onlyFile())
    assert.equal(lines.length, 3)
    assert.equal(JSON.parse(lines[1]).prev, sha256(lines[0]))
    assert.deepEqual(other.verify(), {events: 3, files: 1})
  })

  it('keeps one valid chain when a group commit writes many events at once', async () => {
    log = new AuditLog(dir, lockFile, {disabled: false, groupIntervalMs: 20})
    await Promise.all(Array.from({length: 300}, (_, n) => log.append('grouped', {n})))
    const lines = readLines(onlyFile())
    assert.equal(lines.length, 300)
    assert.deepEqual(lines.map((l) => JSON.parse(l).n), Array.from({length: 300}, (_, n) => n))
    assert.deepEqual(log.verify(), {events: 300, files: 1})
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'head'), 'utf8')).hash, sha256(lines[299]))
  })

  it('writes a group whose lines take more bytes than characters (the group buffer grows) exactly and chained', async () => {
    log = new AuditLog(dir, lockFile, {disabled: false, groupIntervalMs: 20})
    const fieldSets = Array.from({length: 40}, (_, n) => ({n, text: n % 3 === 0 ? '✓ héllo 漢字 '.repeat(60) : 'plain'}))
    await Promise.all(fieldSets.map((fields) => log.append('grouped', fields)))
    const lines = readLines(onlyFile())
    assert.equal(lines.length, 40)
    for (const [i, line] of lines.entries()) {
      const {ts, prev} = JSON.parse(line) as AuditEvent
      assert.equal(line, JSON.stringify({ts, kind: 'grouped', ...fieldSets[i], prev}))
      if (i > 0) assert.equal(prev, sha256(lines[i - 1]))
    }
    assert.deepEqual(log.verify(), {events: 40, files: 1})
  })

  it('serializes concurrent appends into one valid chain', async () => {
    await Promise.all(Array.from({length: 25}, (_, i) => log.append('secret.create', {i})))
    assert.deepEqual(log.verify(), {events: 25, files: 1})
    assert.deepEqual(
      readLines(onlyFile())
        .map((l) => (JSON.parse(l) as AuditEvent).i as number)
        .sort((a, b) => a - b),
      Array.from({length: 25}, (_, i) => i),
    )
    assert.equal(fs.existsSync(lockFile), false, 'the lock is released')
  })

  it('writes nothing when disabled', async () => {
    const disabled = new AuditLog(dir, lockFile, {disabled: true})
    await disabled.append('secret.create', {secretId: 'x'})
    assert.equal(fs.existsSync(dir), false)
    assert.deepEqual(disabled.verify(), {events: 0, files: 0})
  })

  it('writes files readable by the owner only', async () => {
    await appendN(1)
    assert.equal(fs.statSync(onlyFile()).mode & 0o077, 0)
    assert.equal(fs.statSync(path.join(dir, 'head')).mode & 0o077, 0)
  })
})

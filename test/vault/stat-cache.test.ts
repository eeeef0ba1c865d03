/**
 * The watched stat cache and the memo built on it (src/vault/store/stat-cache.ts): what a long-lived
 * process derives from records is reused only while the watched folders are unchanged.
 */
import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {writeFileAtomic} from '../../src/vault/store/atomic-file'
import {MAX_AGE_MS, recordsVersion, stopWatching, watchFolders} from '../../src/vault/store/stat-cache'
import {VersionedMemo} from '../../src/versioned-memo'

describe('vault/stat-cache: VersionedMemo', () => {
  let root: string
  let records: string

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-stat-cache-'))
    records = path.join(root, 'credentials')
    fs.mkdirSync(records)
  })

  afterEach(() => {
    stopWatching()
    fs.rmSync(root, {recursive: true, force: true})
  })

  /** Count how often the memo computes `key`. */
  function counted(memo: VersionedMemo<string>) {
    let computed = 0
    return {
      get: (key: string) =>
        memo.get(key, (k) => {
          computed++
          return `value of ${k}`
        }),
      computed: () => computed,
    }
  }

  const untilChanged = async (before: number | undefined) => {
    for (let i = 0; i < 100 && recordsVersion() === before; i++) await new Promise((r) => setTimeout(r, 10))
  }

  it('computes every time when nothing is watched (a one-shot CLI)', () => {
    assert.equal(recordsVersion(), undefined)
    const memo = counted(new VersionedMemo<string>(recordsVersion))
    assert.equal(memo.get('a'), 'value of a')
    memo.get('a')
    assert.equal(memo.computed(), 2)
  })

  it('reuses a value while the watched folders are unchanged, and recomputes after a change on disk', async () => {
    watchFolders(root, [records])
    const memo = counted(new VersionedMemo<string>(recordsVersion))
    memo.get('a')
    memo.get('a')
    memo.get('b')
    assert.equal(memo.computed(), 2)
    const before = recordsVersion()
    fs.writeFileSync(path.join(records, 'new.yaml'), 'id: new\n') // another process's write
    await untilChanged(before)
    assert.notEqual(recordsVersion(), before)
    memo.get('a')
    assert.equal(memo.computed(), 3)
  })

  it('recomputes at once after this process writes into a watched folder', () => {
    watchFolders(root, [records])
    const memo = counted(new VersionedMemo<string>(recordsVersion))
    memo.get('a')
    // Synchronously: writeFileAtomic tells the watching cache before the kernel's event arrives.
    writeFileAtomic(path.join(records, 'a.yaml'), 'id: a\n', {root})
    memo.get('a')
    assert.equal(memo.computed(), 2)
  })

  it('forgets what it remembered every second even when no change is reported (edits inotify cannot see)', () => {
    // The expiry timer is injected: "a second passes" is an event this test fires.
    const timers: Array<{expire: () => void; everyMs: number; closed: boolean; unrefed: boolean}> = []
    watchFolders(root, [records], (expire, everyMs) => {
      const timer = {expire, everyMs, closed: false, unrefed: false}
      timers.push(timer)
      return {close: () => (timer.closed = true), unref: () => (timer.unrefed = true)}
    })
    assert.equal(timers.length, 1)
    assert.equal(timers[0].everyMs, MAX_AGE_MS)
    assert.equal(MAX_AGE_MS, 1000)
    assert.ok(timers[0].unrefed, 'the expiry timer must not keep a server alive')
    const memo = counted(new VersionedMemo<string>(recordsVersion))
    memo.get('a')
    memo.get('a')
    assert.equal(memo.computed(), 1)
    timers[0].expire()
    memo.get('a')
    assert.equal(memo.computed(), 2, 'a value older than a second was reused')
    stopWatching()
    assert.ok(timers[0].closed, 'stopping the watch stops the expiry timer')
  })

  it('does not keep a computation that failed', () => {
    watchFolders(root, [records])
    const memo = new VersionedMemo<string>(recordsVersion)
    let calls = 0
    const failing = () => {
      calls++
      throw new Error('unreadable record')
    }
    assert.throws(() => memo.get('a', failing), /unreadable/)
    assert.throws(() => memo.get('a', failing), /unreadable/)
    assert.equal(calls, 2)
  })

  it('stays bounded: a full memo starts over', () => {
    watchFolders(root, [records])
    const memo = counted(new VersionedMemo<string>(recordsVersion, 2))
    memo.get('a')
    memo.get('b')
    memo.get('c') // full: starts over with c
    memo.get('c')
    memo.get('a')
    assert.equal(memo.computed(), 4)
  })
})

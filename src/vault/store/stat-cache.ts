import * as fs from 'node:fs'
import * as path from 'node:path'

import {onFileWritten} from './atomic-file'

/**
 * Identity of a file's current bytes without reading them: size, inode, mtime and ctime in
 * nanoseconds. Every record write is a rename, so a changed record always has a new inode.
 * lstat: a link in the vault is never followed, so its stamp is the link's own (and a
 * dangling one is present, to be refused by the reader, not taken for a missing file).
 */
function statStampUncached(file: string): string | undefined {
  // throwIfNoEntry: a missing file is common (no policy, no binding) and exceptions are slow.
  const st = fs.lstatSync(file, {bigint: true, throwIfNoEntry: false})
  return st ? stampOf(st) : undefined
}

/** The stamp of a stat already at hand (an fstat of the open file: the same inode, the same stamp). */
export function stampOf(st: fs.BigIntStats): string {
  return `${st.size}:${st.ino}:${st.mtimeNs}:${st.ctimeNs}`
}

/** How long a remembered stamp may live when no change is reported (file systems without inotify). */
export const MAX_AGE_MS = 1000

/** Starts the repeating expiry; tests pass their own to make "a second passes" an event they fire. */
export type ExpiryTimer = (expire: () => void, everyMs: number) => {unref(): unknown; close(): unknown}

const realExpiryTimer: ExpiryTimer = (expire, everyMs) => setInterval(expire, everyMs)

/**
 * Long-lived processes (aivaultd, serve) check the same record files on every call, and under
 * load those stat calls were a fifth of the work. With watching on, a stamp is remembered
 * until the kernel reports a change in a watched folder (fs.watch: inotify on Linux), this
 * process writes into one, or a second passes. Only files directly inside watched folders
 * (and the folders themselves) are remembered; everything else is always stat-ed.
 *
 * A change made before a request arrives is seen by it: the kernel queues the folder's event
 * before the request's bytes, and the event loop handles ready descriptors in that order.
 */
class StatCache {
  private readonly stamps = new Map<string, string | undefined>()
  private readonly watchers = new Map<string, fs.FSWatcher>()
  private root?: string
  private dirs: string[] = []
  private degraded = false
  /** Drops everything every MAX_AGE_MS: cheaper than reading the clock on every lookup. */
  private expiry?: ReturnType<ExpiryTimer>
  /** Bumped whenever remembered stamps are dropped: anything derived from them is stale. */
  private version = 0

  watch(root: string, dirs: string[], expiryTimer: ExpiryTimer): void {
    this.close()
    this.root = root
    this.dirs = dirs
    this.degraded = false
    this.arm()
    this.expiry = expiryTimer(() => this.clear(), MAX_AGE_MS)
    // A long-lived server stops when it is told to, not because of this timer.
    this.expiry.unref()
    onFileWritten((file) => this.wrote(file))
  }

  /** (Re)start a watcher for each folder; a folder replaced on disk needs a fresh one. */
  private arm(): void {
    this.clear()
    for (const dir of [this.root as string, ...this.dirs]) {
      if (this.watchers.has(dir)) continue
      try {
        const watcher = fs.watch(dir, {persistent: false}, () => this.changed(dir))
        watcher.on('error', () => {
          this.degraded = true
          this.drop(dir)
        })
        this.watchers.set(dir, watcher)
      } catch (error) {
        // A missing folder right under the root is fine: the root's watcher sees it appear and
        // re-arms. A deeper one (run/tokens) or any other failure (no inotify, too many
        // watches) means changes could go unseen: nothing is cached then.
        const missing = (error as NodeJS.ErrnoException).code === 'ENOENT'
        if (!missing || path.dirname(dir) !== this.root) this.degraded = true
      }
    }
  }

  private changed(dir: string): void {
    this.clear()
    // A folder created, removed or replaced under the vault root: watch the new one.
    if (dir === this.root) {
      for (const sub of this.dirs) this.drop(sub)
      this.arm()
    }
  }

  private drop(dir: string): void {
    this.watchers.get(dir)?.close()
    this.watchers.delete(dir)
    this.clear()
  }

  private clear(): void {
    this.stamps.clear()
    this.version++
  }

  /** A number that changes whenever a watched folder may have changed; undefined when not watching. */
  currentVersion(): number | undefined {
    if (this.watchers.size === 0 || this.degraded) return undefined
    return this.version
  }

  close(): void {
    onFileWritten(undefined)
    this.expiry?.close()
    this.expiry = undefined
    for (const watcher of this.watchers.values()) watcher.close()
    this.watchers.clear()
    this.clear()
  }

  private covers(file: string): boolean {
    return this.watchers.has(path.dirname(file))
  }

  stamp(file: string): string | undefined {
    // Only stamps of covered files are remembered, and all are dropped when a watcher changes:
    // a remembered one needs no second look at its folder.
    if (this.stamps.has(file)) return this.stamps.get(file)
    if (this.watchers.size === 0 || !this.covers(file)) return statStampUncached(file)
    const stamp = statStampUncached(file)
    this.stamps.set(file, stamp)
    return stamp
  }

  /** This process wrote `file`: forget what was known about its folder at once. */
  wrote(file: string): void {
    if (this.watchers.size > 0 && this.covers(file)) this.clear()
  }
}

const cache = new StatCache()

/** The stat stamp of a file, remembered while its folder is watched and unchanged. */
export function statStamp(file: string): string | undefined {
  return cache.stamp(file)
}

/** Remember stamps in these folders of a vault until they change (long-lived processes). */
export function watchFolders(root: string, dirs: string[], expiryTimer: ExpiryTimer = realExpiryTimer): void {
  cache.watch(root, dirs, expiryTimer)
}

/** See StatCache.currentVersion: results derived from watched records may be reused while it stays. */
export function recordsVersion(): number | undefined {
  return cache.currentVersion()
}

export function stopWatching(): void {
  cache.close()
}

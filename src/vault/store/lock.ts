import * as fs from 'node:fs'
import * as path from 'node:path'

import {AivaultError} from '../../errors'
import {ensureDir} from './atomic-file'
import {ensureVaultDir, FILE_MODE, openVaultFile, writeAll} from './vault-file'

/**
 * The cross-process lock files (run/lock, run/audit.lock, ...). A lock file holds its owner's
 * pid and a token unique to one acquisition, and appears complete in one step (a hard link of
 * a finished temp file), so every lock on disk names its owner. Only two things remove one:
 * - its owner's release, which first checks that the file is still its own (same inode and
 *   change time: one lstat, where reading the token back would cost four calls);
 * - a breaker that found the owner dead, and only while holding the lock's `.break` file,
 *   after checking that the lock is still the very file (inode and token) it judged stale.
 * Breakers never rename a live lock away, so two processes can never both hold it.
 */

const WAIT_LIMIT_MS = 30_000
/** A lock file with no readable owner (not written by this version) is stale after this. */
const UNOWNED_GRACE_MS = 2000

let tokenCounter = 0
/** Unique among live processes (the pid) and within this one (the counter); hex. */
const newToken = (): string => `${process.pid.toString(16)}${(++tokenCounter).toString(16).padStart(8, '0')}${Math.random().toString(16).slice(2, 10)}`

/** Which file a lock is: a file removed and another created can reuse the inode, not also its change time. */
interface LockIdentity {
  ino: bigint
  ctimeNs: bigint
}

/** Whether a process with this pid exists (EPERM: it does, as another user's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

interface LockState {
  pid?: number
  token?: string
  ino: number
  mtimeMs: number
}

const errorCode = (error: unknown): string | undefined => (error as NodeJS.ErrnoException).code

/** `run/lock`, `locks/secret-<id>.lock`: the folder and the name, for messages. */
const lockLabel = (lockFile: string): string => `${path.basename(path.dirname(lockFile))}/${path.basename(lockFile)}`

/** The lock file as it is now (never through a link); undefined when there is none. */
function inspect(lockFile: string): LockState | undefined {
  let fd: number
  let st: fs.Stats
  try {
    ;({fd, stat: st} = openVaultFile(lockFile, fs.constants.O_RDONLY, lockLabel(lockFile)))
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined
    throw error
  }
  try {
    const buffer = Buffer.alloc(128)
    const text = buffer.toString('utf8', 0, fs.readSync(fd, buffer, 0, buffer.length, 0))
    const match = /^(\d+)(?: ([0-9a-f]+))?\n$/.exec(text)
    return {pid: match ? Number(match[1]) : undefined, token: match?.[2], ino: st.ino, mtimeMs: st.mtimeMs}
  } finally {
    fs.closeSync(fd)
  }
}

function isStale(state: LockState): boolean {
  if (state.pid !== undefined && state.pid > 0) return !processAlive(state.pid)
  return Date.now() - state.mtimeMs > UNOWNED_GRACE_MS
}

const identityOf = (st: fs.BigIntStats): LockIdentity => ({ino: st.ino, ctimeNs: st.ctimeNs})

/** A file system without hard links (some network shares) answers link(2) with one of these. */
const NO_HARD_LINKS = ['EPERM', 'ENOTSUP', 'ENOSYS']

/** link(2) never replaces an existing name (nor follows a link there): it is the test-and-set. */
function linkUnlessExists(from: string, to: string): boolean {
  try {
    fs.linkSync(from, to)
    return true
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false
    throw error
  }
}

/** Create the lock file holding `<pid> <token>`; its identity, or undefined when one exists. */
function tryCreate(lockFile: string): LockIdentity | undefined {
  const token = newToken()
  const content = Buffer.from(`${process.pid} ${token}\n`)
  const temp = `${lockFile}.${token}.tmp`
  const fd = fs.openSync(temp, 'wx', FILE_MODE)
  let tempLeft = true
  try {
    writeAll(fd, content)
    if (!linkUnlessExists(temp, lockFile)) return undefined
    fs.unlinkSync(temp)
    tempLeft = false
    // Taken once the temp name is gone: removing a name changes the change time.
    return identityOf(fs.fstatSync(fd, {bigint: true}))
  } catch (error) {
    if (!NO_HARD_LINKS.includes(errorCode(error) ?? '')) throw error
    return createInPlace(lockFile, content)
  } finally {
    fs.closeSync(fd)
    if (tempLeft) fs.rmSync(temp, {force: true})
  }
}

function createInPlace(lockFile: string, content: Buffer): LockIdentity | undefined {
  let fd: number
  try {
    fd = fs.openSync(lockFile, 'wx', FILE_MODE)
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return undefined
    throw error
  }
  try {
    writeAll(fd, content)
    return identityOf(fs.fstatSync(fd, {bigint: true}))
  } finally {
    fs.closeSync(fd)
  }
}

/** Remove the lock file only if it is still ours. */
function release(lockFile: string, identity: LockIdentity): void {
  // Nobody else removes a lock whose owner is alive, so it cannot change between the check and the unlink.
  const st = fs.lstatSync(lockFile, {bigint: true, throwIfNoEntry: false})
  if (!st || st.ino !== identity.ino || st.ctimeNs !== identity.ctimeNs) return
  try {
    fs.unlinkSync(lockFile)
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error
  }
}

/**
 * A lock left by a process that died (SIGKILL during a write) is removed, by one breaker at a
 * time, and only if it is still the lock that was judged stale.
 */
function breakIfStale(lockFile: string): void {
  const seen = inspect(lockFile)
  if (!seen || !isStale(seen)) return
  const breakFile = `${lockFile}.break`
  const breaking = tryCreate(breakFile)
  if (!breaking) {
    clearDeadBreaker(breakFile)
    return // another process is breaking it; the caller's loop looks again
  }
  try {
    const now = inspect(lockFile)
    if (now && now.ino === seen.ino && now.token === seen.token) fs.rmSync(lockFile, {force: true})
  } finally {
    release(breakFile, breaking)
  }
}

/**
 * A breaker holds `.break` for microseconds; one killed in them leaves it behind. It is
 * claimed by a rename, and put back if what was claimed turns out to be a live breaker's.
 */
function clearDeadBreaker(breakFile: string): void {
  const seen = inspect(breakFile)
  if (!seen || !isStale(seen)) return
  const claimed = `${breakFile}.${newToken()}.stale`
  try {
    fs.renameSync(breakFile, claimed)
  } catch {
    return
  }
  try {
    if (inspect(claimed)?.ino !== seen.ino) fs.linkSync(claimed, breakFile)
  } catch {
    /* yet another breaker holds it now: it decides */
  } finally {
    fs.rmSync(claimed, {force: true})
  }
}

/**
 * Run `work` while holding a cross-process lock file. Lock files inside the vault pass its
 * `root`, so a folder on the way that was replaced by a link is refused.
 */
export async function withFileLock<T>(lockFile: string, work: () => Promise<T> | T, root?: string): Promise<T> {
  if (root === undefined) ensureDir(path.dirname(lockFile))
  else ensureVaultDir(root, path.dirname(lockFile))
  const started = Date.now()
  let delay = 2
  let held: LockIdentity | undefined
  while (!(held = tryCreate(lockFile))) {
    breakIfStale(lockFile)
    if (Date.now() - started > WAIT_LIMIT_MS) {
      throw new AivaultError('conflict', `timed out waiting for the vault lock ${lockFile}`, {
        hint: 'another aivault process is writing; if none is running, remove the lock file',
      })
    }
    await new Promise((resolve) => setTimeout(resolve, delay + Math.random() * delay))
    delay = Math.min(delay * 2, 50)
  }
  try {
    return await work()
  } finally {
    release(lockFile, held)
  }
}

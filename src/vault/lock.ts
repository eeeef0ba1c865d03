import * as fs from 'node:fs'
import * as path from 'node:path'

import {AivaultError} from '../errors'
import {ensureDir, FILE_MODE} from './atomic-file'

const WAIT_LIMIT_MS = 30_000

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function tryCreate(lockFile: string): boolean {
  try {
    const fd = fs.openSync(lockFile, 'wx', FILE_MODE)
    fs.writeSync(fd, `${process.pid}\n`)
    fs.closeSync(fd)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  }
}

function olderThan(file: string, ms: number): boolean {
  try {
    return Date.now() - fs.statSync(file).mtimeMs > ms
  } catch {
    return false
  }
}

/**
 * A lock left by a process that died (SIGKILL during a write) is broken. The file is first
 * renamed to a unique name so two processes breaking the same stale lock cannot both win.
 */
function breakIfStale(lockFile: string): void {
  let holder: number
  try {
    holder = Number.parseInt(fs.readFileSync(lockFile, 'utf8'), 10)
  } catch {
    return
  }
  if (Number.isFinite(holder) && holder > 0) {
    if (processAlive(holder)) return
  } else if (!olderThan(lockFile, 2000)) {
    return // just created; its holder has not written its pid yet
  }
  const claimed = `${lockFile}.stale.${process.pid}`
  try {
    fs.renameSync(lockFile, claimed)
  } catch {
    return
  }
  const claimedHolder = Number.parseInt(fs.readFileSync(claimed, 'utf8'), 10)
  if (claimedHolder !== holder && processAlive(claimedHolder)) {
    // We raced a fresh holder: give its lock back (link fails only if yet another took it).
    try {
      fs.linkSync(claimed, lockFile)
    } catch {
      /* the lock is held by someone else now; the loop waits for it */
    }
  }
  fs.rmSync(claimed, {force: true})
}

/** Run `work` while holding the vault's cross-process lock file. */
export async function withFileLock<T>(lockFile: string, work: () => Promise<T> | T): Promise<T> {
  ensureDir(path.dirname(lockFile))
  const started = Date.now()
  let delay = 2
  while (!tryCreate(lockFile)) {
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
    release(lockFile)
  }
}

function release(lockFile: string): void {
  try {
    fs.unlinkSync(lockFile)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}

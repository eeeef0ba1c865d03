/**
 * The files aivaultd keeps next to its socket (SPEC §1 run/, §10): the folder, the start lock,
 * the socket itself and the pid file. None of them is opened through a symlink, and a folder
 * the daemon did not create keeps its mode (a socket in /tmp must not turn /tmp into 0700).
 */
import {randomBytes} from 'node:crypto'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as path from 'node:path'

import {AivaultError} from '../errors'
import {processAlive} from '../vault/store/lock'

const {O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_RDONLY, O_WRONLY} = fs.constants

/** A start lock older than this belongs to a daemon that hung or died while starting. */
const LOCK_STALE_MS = 10_000
/** How long a starting daemon waits for another one to finish starting. */
const LOCK_WAIT_MS = 15_000

/**
 * AIVAULTD_SOCKET_MODE (SPEC §10, §14): the socket's permission bits in octal (`600`, `0660`).
 * The owner must keep read and write, or the daemon could not be reached by its own user.
 */
export function socketModeFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const text = env.AIVAULTD_SOCKET_MODE
  if (text === undefined || text === '') return undefined
  const mode = /^0?[0-7]{3}$/.test(text) ? Number.parseInt(text, 8) : Number.NaN
  if (!Number.isInteger(mode) || (mode & 0o600) !== 0o600) {
    throw new AivaultError('invalid_request', `AIVAULTD_SOCKET_MODE ${JSON.stringify(text)} is not an octal file mode that lets the owner read and write (e.g. 600 or 660)`, {
      hint: 'set AIVAULTD_SOCKET_MODE to three octal digits starting with 6 or 7, or unset it for 600',
    })
  }
  return mode
}

/**
 * Create the socket's folder when it is missing, giving `mode` to exactly the folders created
 * here (mkdir's mode is cut by the umask). An existing folder is left as it is.
 */
export function createSocketFolder(dir: string, mode: number): void {
  const first = fs.mkdirSync(dir, {recursive: true, mode})
  if (first === undefined) return
  for (let created = dir; ; created = path.dirname(created)) {
    const fd = fs.openSync(created, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
    try {
      fs.fchmodSync(fd, mode)
    } finally {
      fs.closeSync(fd)
    }
    if (created === first || path.dirname(created) === created) break
  }
}

function readNoFollow(file: string): string | undefined {
  let fd: number
  try {
    fd = fs.openSync(file, O_RDONLY | O_NOFOLLOW)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  try {
    return fs.readFileSync(fd, 'utf8')
  } finally {
    fs.closeSync(fd)
  }
}

function notAFile(file: string, what: string): AivaultError {
  return new AivaultError('vault_unavailable', `${file} is not a ${what}`, {hint: `remove ${file}; aivaultd never follows or replaces it`})
}

/** Create the lock file holding `token`; false when one exists. */
function tryLock(file: string, token: string): boolean {
  let fd: number
  try {
    fd = fs.openSync(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  }
  try {
    fs.writeSync(fd, token)
  } finally {
    fs.closeSync(fd)
  }
  return true
}

/**
 * Remove a lock whose holder died (or has held it far longer than a start takes). It is first
 * renamed to a name of its own, so two daemons breaking the same lock cannot both win; a fresh
 * lock taken by mistake is linked back (link never replaces an existing file).
 */
function breakIfStale(file: string): void {
  const stat = fs.lstatSync(file, {throwIfNoEntry: false})
  if (!stat) return
  if (!stat.isFile()) throw notAFile(file, 'lock file')
  const seen = readNoFollow(file)
  if (seen === undefined) return
  const holder = Number.parseInt(seen, 10)
  const young = Date.now() - stat.mtimeMs < LOCK_STALE_MS
  if (young && (seen === '' || (holder > 0 && processAlive(holder)))) return
  const claimed = `${file}.stale-${process.pid}-${randomBytes(4).toString('hex')}`
  try {
    fs.renameSync(file, claimed)
  } catch {
    return // another daemon broke it first
  }
  if (readNoFollow(claimed) !== seen) {
    try {
      fs.linkSync(claimed, file)
    } catch {
      /* a third daemon holds the lock now; we wait for it */
    }
  }
  fs.rmSync(claimed, {force: true})
}

/**
 * Run `work` holding `<socket>.lock`: checking for a live daemon, removing a stale socket and
 * listening happen as one step, so two daemons started at once never both serve one socket.
 */
export async function withStartLock<T>(socket: string, work: () => Promise<T>): Promise<T> {
  const file = `${socket}.lock`
  const token = `${process.pid} ${randomBytes(8).toString('hex')}\n`
  const deadline = Date.now() + LOCK_WAIT_MS
  for (let delay = 5; !tryLock(file, token); delay = Math.min(delay * 2, 100)) {
    breakIfStale(file)
    if (Date.now() > deadline) {
      throw new AivaultError('conflict', `another aivaultd has been starting on ${socket} for too long`, {hint: `if no aivaultd is running, remove ${file}`})
    }
    await new Promise((resolve) => setTimeout(resolve, delay + Math.random() * delay))
  }
  try {
    return await work()
  } finally {
    // Only our own lock is removed (a breaker may have replaced it after a very slow start).
    if (readNoFollow(file) === token) fs.rmSync(file, {force: true})
  }
}

/** A socket file left by a dead daemon is removed; a live one means another daemon runs. */
export async function clearStaleSocket(socket: string): Promise<void> {
  const stat = fs.lstatSync(socket, {throwIfNoEntry: false})
  if (!stat) return
  if (!stat.isSocket()) throw notAFile(socket, 'socket')
  const alive = await new Promise<boolean>((resolve) => {
    const probe = net.connect(socket)
    probe.once('connect', () => {
      probe.destroy()
      resolve(true)
    })
    probe.once('error', () => resolve(false))
  })
  if (alive) throw new AivaultError('conflict', `an aivaultd already serves ${socket}`, {hint: 'use it, or stop it with "aivault daemon stop"'})
  fs.rmSync(socket, {force: true})
}

/** `run/aivaultd.sock` -> `run/aivaultd.pid`: the pid file lives beside its own socket. */
export function pidFilePath(socket: string): string {
  return socket.replace(/\.sock$/, '') + '.pid'
}

/** Write the pid file through a fresh temp file renamed over it: a symlink there is replaced, never followed. */
export function writePidFile(socket: string): void {
  const file = pidFilePath(socket)
  const temp = `${file}.${process.pid}.tmp`
  fs.rmSync(temp, {force: true})
  const fd = fs.openSync(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
  try {
    fs.writeSync(fd, `${process.pid}\n`)
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(temp, file)
}

/** Remove the pid file when it is still this process's. */
export function removePidFile(socket: string): void {
  const file = pidFilePath(socket)
  try {
    if (readNoFollow(file) === `${process.pid}\n`) fs.rmSync(file, {force: true})
  } catch {
    /* a link or a foreign file there is not ours to remove */
  }
}

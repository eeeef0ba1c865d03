/**
 * Opening files inside the vault folder (SPEC §1, hardened). The folder is data a teammate can
 * edit through git, never a map of the machine: nothing in it is opened through a symbolic
 * link, only regular files are read or written, and a record is never larger than 1 MiB.
 * One open with O_NOFOLLOW (and O_NONBLOCK, so a fifo never hangs us) plus the fstat a read
 * needs anyway: no extra lstat on hot paths.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

import {AivaultError} from '../../errors'

export const FILE_MODE = 0o600
export const DIR_MODE = 0o700

/** No record comes close; anything larger is refused before it is read or parsed. */
export const MAX_RECORD_BYTES = 1 << 20

// Both are 0 where the platform lacks them (Windows), which keeps the old behaviour there.
const NO_FOLLOW = (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0)

/** A file or folder in the vault that is not what belongs there: `vault_tampered`, naming it. */
export function refusedEntry(label: string, why: string): AivaultError {
  return new AivaultError('vault_tampered', `${label}: ${why}`, {
    hint: 'only regular files and folders belong in the vault folder (aivault never follows links there): restore it from git or remove it',
  })
}

/** What a non-regular entry is, for messages. */
export function entryKind(st: fs.Stats | fs.BigIntStats): string {
  if (st.isSymbolicLink()) return 'a symbolic link'
  if (st.isDirectory()) return 'a folder'
  if (st.isFIFO()) return 'a fifo'
  if (st.isSocket()) return 'a socket'
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device'
  return 'not a regular file'
}

const isLinkError = (error: unknown): boolean => ['ELOOP', 'EMLINK'].includes((error as NodeJS.ErrnoException).code ?? '')

/**
 * Open a regular file of the vault without following a link at its name. `label` names it in
 * errors (`secrets/<id>.yaml`). ENOENT is thrown as it is; a link or special file is refused.
 */
export function openVaultFile(file: string, flags: number, label: string, mode = FILE_MODE): {fd: number; stat: fs.Stats} {
  return openRegular(file, flags, label, mode, (fd) => fs.fstatSync(fd))
}

function openRegular<S extends fs.Stats | fs.BigIntStats>(file: string, flags: number, label: string, mode: number, fstat: (fd: number) => S): {fd: number; stat: S} {
  let fd: number
  try {
    fd = fs.openSync(file, flags | NO_FOLLOW, mode)
  } catch (error) {
    if (isLinkError(error)) throw refusedEntry(label, 'is a symbolic link')
    throw error
  }
  const stat = fstat(fd)
  if (!stat.isFile()) {
    fs.closeSync(fd)
    throw refusedEntry(label, `is ${entryKind(stat)}, not a regular file`)
  }
  return {fd, stat}
}

/**
 * Read a file of the vault as UTF-8 (undefined when it does not exist). Records pass the
 * default limit; logs and caches, which grow with use, pass Infinity.
 */
export function readVaultFile(file: string, label: string, maxBytes = MAX_RECORD_BYTES): string | undefined {
  return readRegular(file, label, maxBytes, (fd) => fs.fstatSync(fd))?.text
}

/**
 * readVaultFile, with the stat (bigint: nanosecond times) of the very bytes read: the fstat the
 * read needs anyway, so a caller that keys a cache by it needs no lstat of its own.
 */
export function readVaultFileWithStat(file: string, label: string, maxBytes = MAX_RECORD_BYTES): {text: string; stat: fs.BigIntStats} | undefined {
  return readRegular(file, label, maxBytes, (fd) => fs.fstatSync(fd, {bigint: true}))
}

function readRegular<S extends fs.Stats | fs.BigIntStats>(file: string, label: string, maxBytes: number, fstat: (fd: number) => S): {text: string; stat: S} | undefined {
  let opened: {fd: number; stat: S}
  try {
    opened = openRegular(file, fs.constants.O_RDONLY, label, FILE_MODE, fstat)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  const {fd} = opened
  const size = Number(opened.stat.size)
  try {
    if (size > maxBytes) throw refusedEntry(label, `is ${size} bytes; a record is never larger than ${maxBytes} bytes`)
    // Exactly the size fstat gave (what readFileSync does for a regular file): never more.
    const buffer = Buffer.allocUnsafe(size)
    let length = 0
    while (length < size) {
      const read = fs.readSync(fd, buffer, length, size - length, length)
      if (read === 0) break
      length += read
    }
    return {text: buffer.toString('utf8', 0, length), stat: opened.stat}
  } finally {
    fs.closeSync(fd)
  }
}

/** write(2) until every byte is written: a short write is rare, but allowed by POSIX. */
export function writeAll(fd: number, data: Uint8Array, position: number | null = null): void {
  for (let done = 0; done < data.length; ) {
    done += fs.writeSync(fd, data, done, data.length - done, position === null ? null : position + done)
  }
}

/**
 * Make sure `dir` (inside `root`) exists as a real folder, and so does every folder between
 * them: a folder of the vault replaced by a link would send writes elsewhere. The root itself
 * may be a link (the operator chose it). One lstat per level, the cost of the mkdir it replaces.
 */
export function ensureVaultDir(root: string, dir: string): void {
  const relative = path.relative(root, dir)
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
    fs.mkdirSync(dir, {recursive: true, mode: DIR_MODE})
    return
  }
  let current = root
  for (const part of relative.split(path.sep)) {
    current = path.join(current, part)
    const st = fs.lstatSync(current, {throwIfNoEntry: false})
    if (st?.isDirectory()) continue
    const label = path.relative(root, current).split(path.sep).join('/')
    if (st) throw refusedEntry(label, `is ${entryKind(st)}, not a folder`)
    if (current === path.join(root, part)) fs.mkdirSync(root, {recursive: true, mode: DIR_MODE})
    try {
      fs.mkdirSync(current, {mode: DIR_MODE})
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const raced = fs.lstatSync(current)
      if (!raced.isDirectory()) throw refusedEntry(label, `is ${entryKind(raced)}, not a folder`)
    }
  }
}

/**
 * chmod a file or folder of the vault, never through a link: the entry is opened without
 * following one and changed through its descriptor. False when it turned out to be a link.
 */
export function chmodNoFollow(file: string, mode: number): boolean {
  let fd: number
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | NO_FOLLOW)
  } catch (error) {
    if (isLinkError(error)) return false
    if ((error as NodeJS.ErrnoException).code !== 'EACCES') throw error
    // Not readable even by its owner (mode 0200, say): judged by lstat instead.
    if (fs.lstatSync(file).isSymbolicLink()) return false
    fs.chmodSync(file, mode)
    return true
  }
  try {
    fs.fchmodSync(fd, mode)
    return true
  } finally {
    fs.closeSync(fd)
  }
}

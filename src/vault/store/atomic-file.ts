import * as fs from 'node:fs'
import * as path from 'node:path'

import {DIR_MODE, ensureVaultDir, entryKind, FILE_MODE, refusedEntry, writeAll} from './vault-file'

export {DIR_MODE, FILE_MODE} from './vault-file'
export const TEMP_SUFFIX = '.tmp'

let tempCounter = 0

/**
 * Told of every file this process replaces or removes. The stat cache of a long-lived process
 * sets it while it watches (stat-cache.ts), so a write is seen at once, before the kernel's
 * event; this module knows nothing of caches.
 */
let writeListener: ((file: string) => void) | undefined

export function onFileWritten(listener: ((file: string) => void) | undefined): void {
  writeListener = listener
}

/** Create a folder outside the vault (keys); folders inside it go through ensureVaultDir. */
export function ensureDir(dir: string): void {
  fs.mkdirSync(dir, {recursive: true, mode: DIR_MODE})
}

export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r')
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * Replace `file` atomically: write a temp file in the same folder, fsync it, rename it over
 * the target and fsync the folder, so a crash leaves either the old or the new bytes.
 * Bulk writers pass `syncDir: false` and fsync the folder once at the end (`fsyncDir`).
 * Files of the vault pass its `root`: every folder between it and the file must be a real
 * folder, not a link. The temp file is created exclusively (never through a link), and the
 * rename replaces a link at the file's name rather than writing through it.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, options: {syncDir?: boolean; root?: string} = {}): void {
  const dir = path.dirname(file)
  if (options.root === undefined) ensureDir(dir)
  else ensureVaultDir(options.root, dir)
  // pid + counter is unique per process; 'wx' refuses any leftover of the same name.
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${++tempCounter}.${Date.now().toString(36)}${TEMP_SUFFIX}`)
  const fd = fs.openSync(temp, 'wx', FILE_MODE)
  try {
    writeAll(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data)
    fs.fsyncSync(fd)
  } catch (error) {
    fs.closeSync(fd)
    fs.rmSync(temp, {force: true})
    throw error
  }
  fs.closeSync(fd)
  try {
    fs.renameSync(temp, file)
  } catch (error) {
    fs.rmSync(temp, {force: true})
    throw error
  }
  writeListener?.(file)
  if (options.syncDir !== false) fsyncDir(dir)
}

/** Remove `file` and make the removal durable. Missing files are not an error. */
export function removeFileDurably(file: string): boolean {
  try {
    fs.unlinkSync(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw error
  }
  writeListener?.(file)
  fsyncDir(path.dirname(file))
  return true
}

/**
 * The `*.yaml` record files of a record folder (a direct child of the vault root), sorted;
 * temp and hidden files are never records. A folder replaced by a link is refused.
 */
export function listRecordFiles(dir: string): string[] {
  const st = fs.lstatSync(dir, {throwIfNoEntry: false})
  if (!st) return []
  if (!st.isDirectory()) throw refusedEntry(path.basename(dir), `is ${entryKind(st)}, not a folder`)
  let names: string[]
  try {
    names = fs.readdirSync(dir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  return names.filter((name) => name.endsWith('.yaml') && !name.startsWith('.')).sort()
}

/** Read a file outside the vault folder (a key file, a testing vault's CA file), following links as the operator set them up. */
export function readFileIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

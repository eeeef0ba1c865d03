import * as fs from 'node:fs'
import * as path from 'node:path'

import {noteWrite} from './stat-cache'

export const FILE_MODE = 0o600
export const DIR_MODE = 0o700
export const TEMP_SUFFIX = '.tmp'

let tempCounter = 0

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
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, options: {syncDir?: boolean} = {}): void {
  const dir = path.dirname(file)
  ensureDir(dir)
  // pid + counter is unique per process; 'wx' refuses any leftover of the same name.
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${++tempCounter}.${Date.now().toString(36)}${TEMP_SUFFIX}`)
  const fd = fs.openSync(temp, 'wx', FILE_MODE)
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data)
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
  noteWrite(file)
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
  noteWrite(file)
  fsyncDir(path.dirname(file))
  return true
}

/** The `*.yaml` record files of a folder, sorted; temp and hidden files are never records. */
export function listRecordFiles(dir: string): string[] {
  if (!fs.statSync(dir, {throwIfNoEntry: false})) return []
  let names: string[]
  try {
    names = fs.readdirSync(dir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  return names.filter((name) => name.endsWith('.yaml') && !name.startsWith('.')).sort()
}

export function readFileIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

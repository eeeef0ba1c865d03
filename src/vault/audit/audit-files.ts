/**
 * The audit log's file operations (SPEC §12): appends, the in-place head, tail reads. Every
 * open goes through openVaultFile: never through a link, never into a special file.
 */
import * as fs from 'node:fs'
import {promisify} from 'node:util'

import {openVaultFile, writeAll} from '../store/vault-file'

const {O_RDONLY, O_RDWR, O_WRONLY, O_APPEND, O_CREAT, O_EXCL} = fs.constants

const fdatasync = promisify(fs.fdatasync)

/**
 * Write (append by default) and, with `flush`, flush the data before returning. Writing into
 * the page cache takes microseconds and is done in place; only the flush to disk, which can
 * take milliseconds, waits in the thread pool (each thread-pool round trip cost more CPU than
 * the write itself).
 */
export async function writeDurably(file: string, label: string, data: Buffer, flush: boolean, flags = O_WRONLY | O_APPEND | O_CREAT): Promise<void> {
  const {fd} = openVaultFile(file, flags, label)
  try {
    writeAll(fd, data)
    if (flush) await fdatasync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

/** Flush a file written by a batch (it may be gone: head is replaced by a rename at times). */
export async function flushFile(file: string, label: string): Promise<void> {
  let fd: number
  try {
    fd = openVaultFile(file, O_RDONLY, label).fd
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw error
  }
  try {
    await fdatasync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

/** audit/head opened for writing in place; undefined when there is none yet. A link there is refused. */
export function openHead(headFile: string): {fd: number; stat: fs.Stats} | undefined {
  try {
    return openVaultFile(headFile, O_RDWR, 'audit/head')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/**
 * head always holds `{"hash":"<64 hex>"}` plus a newline: the same 76 bytes. It is created
 * once by rename and then overwritten in place, within one disk sector, so it reads as the
 * old or the new hash and never as a torn file, without a new file and a rename per group.
 * `head` is its open descriptor (openHead), which the caller closes.
 */
export async function writeHead(headFile: string, head: {fd: number; stat: fs.Stats} | undefined, hash: string, flush: boolean): Promise<void> {
  const bytes = Buffer.from(JSON.stringify({hash}) + '\n')
  if (!head) {
    const temp = `${headFile}.${process.pid}.${Date.now().toString(36)}.tmp`
    await writeDurably(temp, 'audit/head', bytes, flush, O_WRONLY | O_CREAT | O_EXCL)
    fs.renameSync(temp, headFile)
    return
  }
  writeAll(head.fd, bytes, 0)
  if (head.stat.size > bytes.length) fs.ftruncateSync(head.fd, bytes.length) // an older, longer head
  if (flush) await fdatasync(head.fd)
}

/**
 * The last non-empty line of a file, reading only its tail: 4 KiB first (events are a few
 * hundred bytes), more only when the last line is longer.
 */
export function lastLine(file: string, label: string): string | undefined {
  let fd: number
  let size: number
  try {
    const opened = openVaultFile(file, O_RDONLY, label)
    fd = opened.fd
    size = opened.stat.size
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  try {
    for (let window = 4096; ; window *= 8) {
      const length = Math.min(size, window)
      const buffer = Buffer.alloc(length)
      fs.readSync(fd, buffer, 0, length, size - length)
      const text = buffer.toString('utf8').replace(/\n+$/, '')
      const at = text.lastIndexOf('\n')
      // A line break inside the window: the text after it is whole.
      if (at !== -1) return text.slice(at + 1)
      if (length === size) return text.length > 0 ? text : undefined
    }
  } finally {
    fs.closeSync(fd)
  }
}

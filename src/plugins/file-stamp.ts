import * as fs from 'node:fs'

/**
 * A file's stamp (inode, size, mtime and ctime in nanoseconds): equal stamps mean unchanged
 * content, since ctime cannot be set back by the file's owner. Undefined when it is missing.
 */
export function fileStamp(file: string): string | undefined {
  const s = fs.statSync(file, {bigint: true, throwIfNoEntry: false})
  return s && `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`
}

import * as fs from 'node:fs'
import * as path from 'node:path'

import {AivaultError} from '../../../errors'
import {ensureDir, FILE_MODE, readFileIfExists, writeFileAtomic} from '../../store/atomic-file'
import {writeAll} from '../../store/vault-file'
import type {KeyProvider} from './types'

/** Parse a base64 32-byte key; the message names where it came from, never its content. */
export function decodeKey(text: string, source: string): Uint8Array {
  const trimmed = text.trim()
  const bytes = Buffer.from(trimmed, 'base64')
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) || bytes.length !== 32) {
    throw new AivaultError('vault_unavailable', `${source} does not hold a base64 32-byte key`, {
      hint: 'generate one with "aivault keygen"',
    })
  }
  return new Uint8Array(bytes)
}

export function encodeKey(key: Uint8Array): string {
  return Buffer.from(key).toString('base64')
}

/** The default provider: a 0600 key file outside the vault folder. */
export class FileKeyProvider implements KeyProvider {
  readonly type = 'file' as const

  constructor(readonly location: string) {}

  private get pendingFile(): string {
    return `${this.location}.next`
  }

  async loadKek(): Promise<Uint8Array> {
    const text = readFileIfExists(this.location)
    if (text === undefined) {
      throw new AivaultError('vault_unavailable', `key file ${this.location} is missing`, {
        hint: 'restore the key file, or point AIVAULT_KEYS_DIR at the folder that holds it',
      })
    }
    return decodeKey(text, `key file ${this.location}`)
  }

  async loadPendingKek(): Promise<Uint8Array | undefined> {
    const text = readFileIfExists(this.pendingFile)
    return text === undefined ? undefined : decodeKey(text, `key file ${this.pendingFile}`)
  }

  /** Write the first key of a new vault; never overwrites an existing key file. */
  createKeyFile(key: Uint8Array): void {
    ensureDir(path.dirname(this.location))
    const fd = fs.openSync(this.location, 'wx', FILE_MODE)
    try {
      writeAll(fd, Buffer.from(encodeKey(key) + '\n'))
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
  }

  async stagePendingKek(key: Uint8Array): Promise<void> {
    writeFileAtomic(this.pendingFile, encodeKey(key) + '\n')
  }

  async commitPendingKek(): Promise<void> {
    fs.renameSync(this.pendingFile, this.location)
  }
}

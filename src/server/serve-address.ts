import * as fs from 'node:fs'
import * as path from 'node:path'

import {removeFileDurably, writeFileAtomic} from '../vault/store/atomic-file'
import type {VaultPaths} from '../vault/store/paths'

/** Where a running `aivault serve` listens: what `serve --json` prints and run/serve.json holds. */
export interface ServeAddress {
  url: string
  host: string
  port: number
  pid: number
}

const FILE = 'serve.json'

export function serveAddressOf(address: {address: string; port: number}, pid = process.pid): ServeAddress {
  const host = address.address.includes(':') ? `[${address.address}]` : address.address
  return {url: `http://${host}:${address.port}`, host: address.address, port: address.port, pid}
}

/** Written once serve listens, so `env --serve` finds it; only in an existing vault. */
export function writeServeAddress(paths: VaultPaths, address: ServeAddress): void {
  if (!fs.existsSync(paths.vaultFile)) return
  writeFileAtomic(path.join(paths.runDir, FILE), JSON.stringify(address) + '\n', {root: paths.root})
}

/** Removed on exit, unless another serve has since written its own address there. */
export function removeServeAddress(paths: VaultPaths, pid = process.pid): void {
  if (readRecorded(paths)?.pid === pid) removeFileDurably(path.join(paths.runDir, FILE))
}

/** The address of a serve that is still running (a file left by a killed serve is ignored). */
export function readServeAddress(paths: VaultPaths): ServeAddress | undefined {
  const recorded = readRecorded(paths)
  if (!recorded) return undefined
  try {
    process.kill(recorded.pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return undefined
  }
  return recorded
}

function readRecorded(paths: VaultPaths): ServeAddress | undefined {
  let text: string
  try {
    text = fs.readFileSync(path.join(paths.runDir, FILE), 'utf8')
  } catch {
    return undefined
  }
  try {
    const v = JSON.parse(text) as Partial<ServeAddress>
    if (typeof v.url !== 'string' || typeof v.host !== 'string' || typeof v.port !== 'number' || typeof v.pid !== 'number') return undefined
    return {url: v.url, host: v.host, port: v.port, pid: v.pid}
  } catch {
    return undefined
  }
}

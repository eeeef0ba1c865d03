import * as path from 'node:path'

import {removeFileDurably, writeFileAtomic} from '../store/atomic-file'
import type {VaultPaths} from '../store/paths'
import type {Kek, SealedValue} from './seal'
import {makeKek, unwrapDek, wrapDek} from './seal'
import {readVaultFile} from '../store/vault-file'

/**
 * While rotate-master runs, run/rotation.json holds each of the two KEKs wrapped under the
 * other (secretbox). Whichever key the operator still supplies therefore yields both, and every
 * record opens whether or not it was re-wrapped yet. That is what keeps an interrupted `env`
 * rotation usable: aivault cannot stage a key in an environment variable. It protects nothing
 * more than the keys themselves do, and is removed when the rotation completes.
 */
interface Bridge {
  fromKekId: string
  toKekId: string
  toUnderFrom: SealedValue['dek']
  fromUnderTo: SealedValue['dek']
}

export function bridgeFile(paths: VaultPaths): string {
  return path.join(paths.runDir, 'rotation.json')
}

export function readBridge(paths: VaultPaths): Bridge | undefined {
  try {
    const bridge = JSON.parse(readVaultFile(bridgeFile(paths), 'run/rotation.json') ?? 'null') as Bridge | null
    return bridge && typeof bridge.fromKekId === 'string' && typeof bridge.toKekId === 'string' ? bridge : undefined
  } catch {
    return undefined
  }
}

export async function writeBridge(paths: VaultPaths, from: Kek, to: Kek): Promise<void> {
  const bridge: Bridge = {fromKekId: from.id, toKekId: to.id, toUnderFrom: await wrapDek(from, to.key), fromUnderTo: await wrapDek(to, from.key)}
  writeFileAtomic(bridgeFile(paths), JSON.stringify(bridge) + '\n', {root: paths.root})
}

/** The other key of the bridge, when `keys` holds one of its two. */
export async function crossBridge(bridge: Bridge, keys: ReadonlyMap<string, Kek>): Promise<Kek | undefined> {
  try {
    if (keys.has(bridge.fromKekId) && !keys.has(bridge.toKekId)) return await makeKek(await unwrapDek(keys, bridge.toUnderFrom))
    if (keys.has(bridge.toKekId) && !keys.has(bridge.fromKekId)) return await makeKek(await unwrapDek(keys, bridge.fromUnderTo))
  } catch {
    return undefined // a bridge that does not open is ignored; the keys on hand still work
  }
  return undefined
}

export function removeBridge(paths: VaultPaths): void {
  removeFileDurably(bridgeFile(paths))
}

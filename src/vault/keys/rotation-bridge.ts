import * as path from 'node:path'

import {AivaultError} from '../../errors'
import type {KeyProviderSettings} from './key-providers/types'
import {removeFileDurably, writeFileAtomic} from '../store/atomic-file'
import type {VaultPaths} from '../store/paths'
import type {Kek, SealedValue} from './seal'
import {configMac, makeKek, unwrapDek, verifyConfigMac, wrapDek} from './seal'
import {readVaultFile} from '../store/vault-file'

/**
 * While rotate-master runs, run/rotation.json holds each of the two KEKs wrapped under the
 * other (secretbox). Whichever key the operator still supplies therefore yields both, and every
 * record opens whether or not it was re-wrapped yet. That is what keeps an interrupted `env`
 * rotation usable: aivault cannot stage a key in an environment variable. It protects nothing
 * more than the keys themselves do, and is removed when the rotation completes.
 */
export interface Bridge {
  fromKekId: string
  toKekId: string
  toUnderFrom: SealedValue['dek']
  fromUnderTo: SealedValue['dek']
  /**
   * The key provider settings vault.yaml will carry under the new key (a recipients list
   * without the removed member, or the first recipient of a vault switching to recipients),
   * MACed with the new key, so a resumed run finishes the same change and not another.
   */
  settings?: KeyProviderSettings
  settingsMac?: string
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

export async function writeBridge(paths: VaultPaths, from: Kek, to: Kek, settings: KeyProviderSettings): Promise<void> {
  const bridge: Bridge = {
    fromKekId: from.id,
    toKekId: to.id,
    toUnderFrom: await wrapDek(from, to.key),
    fromUnderTo: await wrapDek(to, from.key),
    settings,
    settingsMac: await configMac(to, bridgeSettingsMessage(settings)),
  }
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

function bridgeSettingsMessage(settings: KeyProviderSettings): string {
  return JSON.stringify(['aivault rotation settings v1', settings])
}

/**
 * The settings an interrupted rotation to `target` will finish with: undefined for a bridge
 * written before bridges carried them; `vault_tampered` when they do not match their MAC.
 */
export async function bridgeSettings(bridge: Bridge, target: Kek): Promise<KeyProviderSettings | undefined> {
  if (bridge.settings === undefined) return undefined
  if (bridge.toKekId !== target.id || typeof bridge.settingsMac !== 'string' || !(await verifyConfigMac(target, bridgeSettingsMessage(bridge.settings), bridge.settingsMac))) {
    throw new AivaultError('vault_tampered', 'run/rotation.json: the key provider settings of the interrupted rotation do not match their MAC', {
      hint: 'remove run/rotation.json only if no record was re-wrapped yet ("aivault doctor" lists records that do not open)',
    })
  }
  return bridge.settings
}

export function removeBridge(paths: VaultPaths): void {
  removeFileDurably(bridgeFile(paths))
}

import {AivaultError} from '../../errors'
import type {VaultConfig} from '../config'
import {verifyVaultConfig} from '../config'
import type {KeyProvider} from './key-providers/types'
import type {VaultPaths} from '../store/paths'
import {crossBridge, readBridge} from './rotation-bridge'
import type {Kek} from './seal'
import {makeKek} from './seal'

/**
 * The keys a process holds for one vault: the current KEK (the one vault.yaml names), plus the
 * other side of an interrupted rotate-master, so every record opens whichever key wraps it.
 */
export interface Keyring {
  current: Kek
  keys: Map<string, Kek>
  /** The target of an interrupted rotate-master that is not yet current. */
  pending?: Kek
  /** The source key when vault.yaml already names the target but the rotation did not finish. */
  previous?: Kek
}

/** `followChain: false` only for `recipients accept-key`, which replaces the remembered key after review. */
export async function loadKeyring(config: VaultConfig, provider: KeyProvider, paths: VaultPaths, options: {followChain?: boolean} = {}): Promise<Keyring> {
  const stored = await makeKek(await provider.loadKek())
  const keys = new Map<string, Kek>([[stored.id, stored]])
  const stagedKey = await provider.loadPendingKek()
  const staged = stagedKey ? await makeKek(stagedKey) : undefined
  if (staged) keys.set(staged.id, staged)
  const bridge = readBridge(paths)
  const bridged = bridge ? await crossBridge(bridge, keys) : undefined
  if (bridged) keys.set(bridged.id, bridged)

  const current = keys.get(config.kekId)
  if (!current) {
    // A MAC that verifies once the key id is put back means vault.yaml's kekId itself was edited.
    const edited = await verifyVaultConfig({...config, kekId: stored.id}, stored).then(
      () => true,
      () => false,
    )
    if (edited) throw new AivaultError('vault_tampered', 'vault.yaml key id was changed', {hint: 'restore vault.yaml from git or a backup'})
    const where = provider.location ? ` from ${provider.location}` : ''
    throw new AivaultError('vault_unavailable', `the key${where} (id ${stored.id}) is not this vault's key (id ${config.kekId})`, {
      hint: 'supply the key this vault was created or last rotated with',
    })
  }
  await verifyVaultConfig(config, current)
  if (options.followChain !== false) await provider.followKeyChain?.(config, current, paths)

  const keyring: Keyring = {current, keys}
  const source = bridge ? keys.get(bridge.fromKekId) : stored
  const target = bridge ? keys.get(bridge.toKekId) : staged
  if (source && target && source.id !== target.id) {
    if (current.id === source.id) keyring.pending = target
    else if (current.id === target.id) keyring.previous = source
  }
  return keyring
}

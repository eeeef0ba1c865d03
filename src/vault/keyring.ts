import {AivaultError} from '../errors'
import type {VaultConfig} from './config'
import {verifyVaultConfig} from './config'
import type {KeyProvider} from './key-providers/types'
import type {Kek} from './seal'
import {makeKek} from './seal'

/**
 * The keys a process holds for one vault: the current KEK (the one vault.yaml names), plus the
 * other side of an interrupted rotate-master, so every record opens whichever key wraps it.
 */
export interface Keyring {
  current: Kek
  keys: Map<string, Kek>
  /** A staged next key from an interrupted rotate-master that is not yet current. */
  pending?: Kek
  /** The previous key when vault.yaml already names the staged key but the key file was not yet swapped. */
  previous?: Kek
}

export async function loadKeyring(config: VaultConfig, provider: KeyProvider): Promise<Keyring> {
  const stored = await makeKek(await provider.loadKek())
  const pendingKey = await provider.loadPendingKek()
  const staged = pendingKey ? await makeKek(pendingKey) : undefined
  const keys = new Map<string, Kek>([[stored.id, stored]])
  if (staged) keys.set(staged.id, staged)

  let keyring: Keyring
  if (config.kekId === stored.id) {
    keyring = {current: stored, keys, pending: staged && staged.id !== stored.id ? staged : undefined}
  } else if (staged && config.kekId === staged.id) {
    keyring = {current: staged, keys, previous: stored}
  } else {
    const where = provider.location ? ` from ${provider.location}` : ''
    throw new AivaultError('vault_unavailable', `the key${where} (id ${stored.id}) is not this vault's key (id ${config.kekId})`, {
      hint: 'supply the key this vault was created or last rotated with',
    })
  }
  await verifyVaultConfig(config, keyring.current)
  return keyring
}

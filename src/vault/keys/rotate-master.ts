import {AivaultError} from '../../errors'
import {signVaultConfig, writeVaultConfig} from '../config'
import type {Kek} from './seal'
import type {KeyProviderSettings} from './key-providers/types'
import {makeKekLink} from './kek-chain'
import {bridgeSettings, readBridge, removeBridge, writeBridge} from './rotation-bridge'
import {makeKek, randomKey, rewrapDek} from './seal'
import type {Vault} from '../vault'

export interface RotateMasterOptions {
  /** The new key (required for `env` vaults; `file` vaults generate one when absent). */
  newKey?: Uint8Array
  onProgress?: (done: number, total: number) => void
  /**
   * vault.yaml's key provider settings under the new key (recipients remove, the switch to
   * recipients). Called under the vault lock before anything changes, so it may refuse; not
   * called when an interrupted rotation is resumed (that one finishes with what it started).
   * Default: the provider's own (`settingsFor`), else unchanged.
   */
  nextSettings?: (target: Kek, current: KeyProviderSettings) => Promise<KeyProviderSettings>
}

export interface RotateMasterResult {
  previousKekId: string
  kekId: string
  secrets: number
  rewrapped: number
  /** True when this run finished a rotation that an earlier, interrupted run had started. */
  resumed: boolean
  /** The key provider vault.yaml names afterwards. */
  provider: string
  /** vault.yaml's key provider settings afterwards (never a key). */
  settings: KeyProviderSettings
  /** Where the new key now lives (a key file) or must be supplied (an env variable). */
  keyLocation: string | null
}

/**
 * Re-wrap every DEK under a new KEK, crash-safe at every step:
 * 1. before any record changes, the new key is staged durably (key file `.next`), then both
 *    keys are bridged (run/rotation.json: each wrapped under the other), so either key opens all;
 * 2. each record is re-wrapped with an atomic write; until the end both keys are held, and
 *    every record names the key that wraps it (`dek.kekId`), so each opens in either state;
 * 3. every re-wrapped record is verified to open under the new key alone before it is written;
 * 4. vault.yaml is re-signed for the new key, then the staged key replaces the old one.
 * A run after a crash resumes: records already under the target key are skipped. The bridge
 * also records the settings vault.yaml will carry (a recipients list), so a resumed run makes
 * the same change. A change of provider (file -> recipients) stages nothing in the old one: the
 * bridge alone carries the new key until vault.yaml names it.
 */
export async function rotateMaster(vault: Vault, options: RotateMasterOptions = {}): Promise<RotateMasterResult> {
  if (vault.config().keyProvider.type === 'passphrase') {
    throw new AivaultError('invalid_request', 'rotate-master of a passphrase vault needs the vault unlocked in aivaultd', {
      hint: 'run "aivault unlock" and retry once the daemon is available',
    })
  }
  return vault.withLock(async () => {
    vault.reload()
    const current = vault.config()
    const provider = vault.keyProvider(current)
    const keyring = await vault.keyring()
    let target: Kek
    let resumed = false
    if (keyring.previous) {
      target = keyring.current // vault.yaml already names the staged key: only the swap is left
      resumed = true
    } else if (keyring.pending) {
      target = keyring.pending
      resumed = true
    } else if (options.newKey) {
      target = await makeKek(options.newKey)
    } else if (provider.type === 'env') {
      throw new AivaultError('invalid_request', 'an env vault cannot store a new key itself', {
        hint: `run "aivault keygen", then "aivault rotate-master --new-key <key>", and export the new key as ${provider.location}`,
      })
    } else {
      target = await makeKek(await randomKey())
    }
    if (target.id === keyring.current.id && !keyring.previous) {
      // Re-running a rotation that already finished: nothing to do, and nothing is wrong.
      const total = vault.secrets.list().records.length
      return {previousKekId: target.id, kekId: target.id, secrets: total, rewrapped: 0, resumed: true, provider: provider.type, settings: current.keyProvider, keyLocation: provider.location ?? null}
    }

    const {records: loaded, problems} = vault.secrets.readAll()
    if (problems.length > 0) {
      throw new AivaultError('vault_tampered', `${problems[0].file}: ${problems[0].message}`, {
        hint: 'repair or remove the record before rotating the master key (it would become unreadable)',
      })
    }
    const bridge = keyring.previous || keyring.pending ? readBridge(vault.paths) : undefined
    const resumedSettings = bridge ? await bridgeSettings(bridge, target) : undefined
    let settings: KeyProviderSettings
    if (resumedSettings) settings = resumedSettings
    else if (options.nextSettings && !resumed) settings = await options.nextSettings(target, current.keyProvider)
    else if (provider.settingsFor) settings = await provider.settingsFor(target.key)
    else settings = current.keyProvider
    // A recipients vault.yaml proves its new KEK was made by a holder of the old one (kek-chain.ts).
    if (settings.type === 'recipients' && !keyring.previous) {
      settings = {type: 'recipients', recipients: settings.recipients, link: await makeKekLink(current.vaultId, keyring.current, target)}
    }
    // The provider that stages and commits the key file is the one vault.yaml keeps naming.
    const sameProvider = settings.type === provider.type
    const keys = new Map(keyring.keys)
    keys.set(target.id, target)
    // Each record is read and parsed once. Nothing changes until every record is known to
    // open: a tampered record stops the rotation before the first write.
    for (const record of loaded) await vault.secrets.open(record, {...keyring, keys}, current.vaultId)

    if (!keyring.previous) {
      if (sameProvider) await provider.stagePendingKek(target.key)
      await writeBridge(vault.paths, keyring.current, target, settings)
    }
    let rewrapped = 0
    const total = loaded.length
    const onlyTarget = {current: target, keys: new Map([[target.id, target]])}
    // Each record's event is logged as the record is re-wrapped, just before it is written (SPEC §12).
    await vault.audit.batch(async () => {
      for (const [index, record] of loaded.entries()) {
        if (record.sealed.dek.kekId !== target.id) {
          const next = {...record, sealed: await rewrapDek(keys, record.sealed, target)}
          await vault.secrets.open(next, onlyTarget, current.vaultId)
          await vault.audit.append('secret.rewrap', {secretId: record.id, name: record.name, kekId: target.id})
          vault.secrets.write(next, {durable: false})
          rewrapped++
        } else {
          resumed = true // an interrupted run (of an env vault, say) got this far already
        }
        options.onProgress?.(index + 1, total)
      }
    })
    vault.secrets.syncFolder() // every rename is durable before the old key stops being current
    if (!keyring.previous) {
      const {mac: _mac, kekId: _kekId, ...unsigned} = current
      writeVaultConfig(vault.paths, await signVaultConfig({...unsigned, keyProvider: settings}, target))
    }
    // The bridge goes before the key swap: once the staged key is the key, nothing is pending.
    removeBridge(vault.paths)
    if (sameProvider) await provider.commitPendingKek()
    vault.reload()
    const previousKekId = keyring.previous?.id ?? keyring.current.id
    await vault.audit.append('vault.rotate_master', {previousKekId, kekId: target.id, secrets: total, rewrapped, resumed})
    const after = vault.keyProvider()
    if (after.followKeyChain) {
      // The rotating clone follows its own link at once, so a later change by another member is one step away.
      await vault.keyring().catch((error: unknown) => {
        if (!(error instanceof AivaultError && error.code === 'vault_locked')) throw error // removed yourself: nothing to follow
      })
    }
    return {previousKekId, kekId: target.id, secrets: total, rewrapped, resumed, provider: after.type, settings: vault.config().keyProvider, keyLocation: after.location ?? null}
  })
}


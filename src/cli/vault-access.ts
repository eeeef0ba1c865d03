import {DaemonClient} from '../daemon/client'
import {AivaultError} from '../errors'
import type {SealedValue} from '../vault/seal'
import {daemonSocketPath} from '../vault/status'
import {Vault} from '../vault/vault'

/**
 * The vault for commands that seal values. When this process holds no key (a passphrase vault),
 * sealing goes to the running aivaultd that was unlocked; without one the error says how to unlock.
 */
export function sealingVault(env: NodeJS.ProcessEnv = process.env): Vault {
  const vault = Vault.fromEnv(env)
  vault.remoteSealer = async ({secretId, scope, pinnedProvider, plaintext}) => {
    const client = env.AIVAULTD_DISABLE === '1' ? undefined : await DaemonClient.connect(daemonSocketPath(vault))
    if (!client) throw new AivaultError('vault_locked', 'this passphrase vault is locked', {hint: 'run "aivault unlock" first'})
    try {
      const reply = await client.request<{sealed: SealedValue}>('seal', {secretId, scope, pinnedProvider, valueBase64: Buffer.from(plaintext).toString('base64')})
      return reply.sealed
    } finally {
      client.close()
    }
  }
  return vault
}

import {DaemonClient} from '../daemon/client'
import {daemonSocketPath} from '../daemon/socket-path'
import {AivaultError} from '../errors'
import type {SealedValue} from '../vault/seal'
import {Vault} from '../vault/vault'

/**
 * The vault for commands that seal values. When this process holds no key (a passphrase vault),
 * sealing goes to the running aivaultd that was unlocked; without one the error says how to unlock.
 */
export function sealingVault(env: NodeJS.ProcessEnv = process.env): Vault {
  const vault = Vault.fromEnv(env)
  vault.remoteSealer = ({secretId, scope, pinnedProvider, tenantHost, plaintext}) =>
    daemonSeal(vault, env, 'seal', {secretId, scope, pinnedProvider, ...(tenantHost ? {tenantHost} : {}), valueBase64: Buffer.from(plaintext).toString('base64')})
  vault.remoteTenantSealer = (request) => daemonSeal(vault, env, 'seal_tenant', request)
  return vault
}

async function daemonSeal(vault: Vault, env: NodeJS.ProcessEnv, op: 'seal' | 'seal_tenant', params: Record<string, unknown>): Promise<SealedValue> {
  const client = env.AIVAULTD_DISABLE === '1' ? undefined : await DaemonClient.connect(daemonSocketPath(vault.env))
  if (!client) throw new AivaultError('vault_locked', 'this passphrase vault is locked', {hint: 'run "aivault unlock" first'})
  try {
    const reply = await client.request<{sealed: SealedValue}>(op, params)
    return reply.sealed
  } finally {
    client.close()
  }
}

import {DaemonClient} from '../daemon/client'
import {daemonSocketPath} from '../daemon/socket-path'
import {AivaultError} from '../errors'
import type {SealedValue} from '../vault/keys/seal'
import type {RemoteSealer} from '../vault/vault'
import {Vault} from '../vault/vault'

/**
 * The vault for commands that seal values. When this process holds no key (a passphrase vault),
 * sealing goes to the running aivaultd that was unlocked; without one the error says how to unlock.
 */
export function sealingVault(env: NodeJS.ProcessEnv = process.env): Vault {
  return Vault.fromEnv(env, {remoteSealer: daemonSealer(env)})
}

/** Seals through aivaultd's `seal` and `seal_tenant` ops: the key never comes to this process. */
function daemonSealer(env: NodeJS.ProcessEnv): RemoteSealer {
  return {
    seal: ({secretId, scope, pinnedProvider, tenantHost, plaintext}) =>
      daemonSeal(env, 'seal', {secretId, scope, pinnedProvider, ...(tenantHost ? {tenantHost} : {}), valueBase64: Buffer.from(plaintext).toString('base64')}),
    sealForTenant: (request) => daemonSeal(env, 'seal_tenant', request),
  }
}

async function daemonSeal(env: NodeJS.ProcessEnv, op: 'seal' | 'seal_tenant', params: Record<string, unknown>): Promise<SealedValue> {
  const client = env.AIVAULTD_DISABLE === '1' ? undefined : await DaemonClient.connect(daemonSocketPath(env))
  if (!client) throw new AivaultError('vault_locked', 'this passphrase vault is locked', {hint: 'run "aivault unlock" first'})
  try {
    const reply = await client.request<{sealed: SealedValue}>(op, params)
    return reply.sealed
  } finally {
    client.close()
  }
}

import type {Vault} from '../vault/vault'
import {socketFromEnv, stopDaemon} from './daemon-access'

/**
 * aivaultd loads plugins when it starts: after a plugin is installed, linked or removed, a
 * running daemon is stopped so the next invoke starts one that sees the change. Returns the
 * line to print, if any.
 */
export async function restartNoticeAfterPluginChange(): Promise<string | undefined> {
  const outcome = await stopDaemon(socketFromEnv())
  if (outcome === 'not_running') return undefined
  if (outcome === 'still_running') return 'aivaultd did not stop: run aivault daemon restart so it loads the change'
  return 'Stopped aivaultd so it loads the change; the next invoke starts it again (a passphrase vault needs aivault unlock first). Restart aivault serve too, if it runs.'
}

/**
 * Trust decides which code may receive this vault's secrets: granting or withdrawing it is
 * recorded in the vault's audit log too, when there is a vault.
 */
export async function auditTrust(vault: Vault, kind: 'plugin.trust' | 'plugin.untrust', fields: Record<string, string>): Promise<void> {
  if (vault.exists()) await vault.audit.append(kind, fields)
}

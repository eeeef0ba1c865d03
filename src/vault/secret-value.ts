import * as path from 'node:path'

import {AivaultError} from '../errors'
import {withFileLock} from './store/lock'
import {encodeRecordFileName} from './store/paths'
import type {SecretScope} from './scope'
import {associatedData, sealValue} from './keys/seal'
import type {SecretRecord} from './store/secret-record'
import type {Vault} from './vault'

/** Who is asking for a secret's value: the invocation's workspace and group. */
export interface AccessContext {
  workspaceId?: string
  groupId?: string
}

/** A secret is usable in its own scope, and by groups it was attached to (SPEC §3). */
export function canUseSecret(record: {scope: SecretScope; attachedGroups: {workspaceId: string; groupId: string}[]}, ctx: AccessContext): boolean {
  const {scope} = record
  if (scope.type === 'global') return true
  if (record.attachedGroups.some((g) => g.workspaceId === ctx.workspaceId && g.groupId === ctx.groupId)) return true
  if (scope.type === 'workspace') return scope.workspaceId === ctx.workspaceId
  return scope.workspaceId === ctx.workspaceId && scope.groupId === ctx.groupId
}

/** Decrypt one secret for the broker's auth step; the caller drops the value right after use. */
export async function openSecret(vault: Vault, secretId: string, known?: SecretRecord): Promise<{record: SecretRecord; value: string}> {
  const record = known ?? vault.secrets.read(secretId)
  const value = await vault.secrets.open(record, await vault.keyring(), vault.config().vaultId)
  return {record, value: Buffer.from(value).toString('utf8')}
}

/**
 * Replace a secret's value in place (OAuth token write-back, SPEC §15): `mutate` sees the
 * current value, freshly read, and returns the new one or undefined to keep it. A per-secret
 * lock makes concurrent refreshes share one token call; `mutate` may take seconds (a slow
 * token endpoint), so the write is a compare-and-swap under the vault lock: when an operator
 * rotated or deleted the secret meanwhile, their change wins and the new value is only
 * returned, not stored. Fresh DEK; `valueVersion` is the operator's and stays.
 */
export async function updateSecretValue(vault: Vault, secretId: string, mutate: (current: string) => Promise<string | undefined>): Promise<string> {
  const lock = path.join(vault.paths.runDir, 'locks', `secret-${encodeRecordFileName(secretId).replace(/\.yaml$/, '')}.lock`)
  return withFileLock(
    lock,
    async () => {
      const {record, value} = await openSecret(vault, secretId)
      const next = await mutate(value)
      if (next === undefined || next === value) return value
      if (next.length === 0) throw new AivaultError('invalid_request', 'refusing to store an empty value')
      await vault.withLock(() => storeIfUnchanged(vault, record, next))
      return next
    },
    vault.paths.root,
  )
}

/** Under the vault lock: write `next` only if the record on disk is still the one `next` was derived from. */
async function storeIfUnchanged(vault: Vault, read: SecretRecord, next: string): Promise<void> {
  let current: SecretRecord
  try {
    current = vault.secrets.read(read.id, {fresh: true})
  } catch (error) {
    if (error instanceof AivaultError && error.code === 'secret_not_found') return // deleted meanwhile
    throw error
  }
  const same = current.valueVersion === read.valueVersion && current.sealed.nonce === read.sealed.nonce && current.sealed.ciphertext === read.sealed.ciphertext
  if (!same) return // rotated (or rewritten) meanwhile
  const keyring = await vault.keyring()
  // Sealed for the record as it is now (its scope may have been edited meanwhile).
  const sealed = await sealValue(keyring.current, Buffer.from(next, 'utf8'), associatedData(vault.config().vaultId, current.id, current.scope, current.pinnedProvider ?? undefined, current.tenantHost))
  vault.secrets.write({...current, updatedAt: new Date().toISOString(), sealed})
}

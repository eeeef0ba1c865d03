import * as path from 'node:path'

import {AivaultError} from '../errors'
import {withFileLock} from './lock'
import {encodeRecordFileName} from './paths'
import type {SecretScope} from './scope'
import {associatedData, sealValue} from './seal'
import type {SecretRecord} from './secret-record'
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
 * Replace a secret's value in place under a per-secret lock (OAuth token write-back, SPEC §15):
 * `mutate` sees the current value, freshly read, and returns the new one or undefined to keep
 * it. Fresh DEK; `valueVersion` is the operator's and stays.
 */
export async function updateSecretValue(vault: Vault, secretId: string, mutate: (current: string) => Promise<string | undefined>): Promise<string> {
  const lock = path.join(vault.paths.runDir, 'locks', `secret-${encodeRecordFileName(secretId).replace(/\.yaml$/, '')}.lock`)
  return withFileLock(lock, async () => {
    const {record, value} = await openSecret(vault, secretId)
    const next = await mutate(value)
    if (next === undefined || next === value) return value
    if (next.length === 0) throw new AivaultError('invalid_request', 'refusing to store an empty value')
    const keyring = await vault.keyring()
    const sealed = await sealValue(keyring.current, Buffer.from(next, 'utf8'), associatedData(vault.config().vaultId, record.id, record.scope, record.pinnedProvider ?? undefined, record.tenantHost))
    vault.secrets.write({...record, updatedAt: new Date().toISOString(), sealed})
    return next
  })
}

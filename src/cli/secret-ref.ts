import {Flags} from '@oclif/core'

import {usageError} from '../errors'
import type {SecretRef} from '../vault/secrets-service'
import {checkSecretName, parseScope, scopeFlags} from './flags'

/** `--id` or `--name` (with scope flags) addressing one secret (SPEC §15). */
export const secretRefFlags = {
  id: Flags.string({description: 'Secret id.'}),
  name: Flags.string({description: 'Secret name or alias (with scope flags when several scopes use it).'}),
  ...scopeFlags,
}

export function parseSecretRef(flags: {id?: string; name?: string; scope?: string; 'workspace-id'?: string; 'group-id'?: string}): SecretRef {
  if (flags.id && flags.name) throw usageError('use --id or --name, not both')
  if (!flags.id && !flags.name) throw usageError('a secret is required', 'pass --id <id> or --name <name>')
  const scoped = flags.scope !== undefined || flags['workspace-id'] !== undefined || flags['group-id'] !== undefined
  if (flags.id) {
    if (scoped) throw usageError('--id needs no scope flags')
    return {id: flags.id}
  }
  return {name: checkSecretName(flags.name as string), scope: scoped ? parseScope(flags) : undefined}
}

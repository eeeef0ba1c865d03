import {Flags} from '@oclif/core'

import {usageError} from '../errors'
import {SECRET_REF} from '../vault/store/credential-record'
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

/**
 * A credential's `--secret-ref` values: `vault:secret:<id>`, or `PLACEHOLDER=vault:secret:<id>`
 * for a provider that takes several secrets. Anything else is a usage error (exit 2).
 */
export function parseCredentialSecretRefs(values: string[]): {placeholder?: string; secretId: string}[] {
  return values.map((raw) => {
    const at = raw.indexOf('=')
    const [placeholder, ref] = at === -1 ? [undefined, raw] : [raw.slice(0, at), raw.slice(at + 1)]
    const id = SECRET_REF.exec(ref)?.[1]
    if (!id) throw usageError(`--secret-ref ${JSON.stringify(raw)} is not vault:secret:<id>`, 'see "aivault secrets list" for ids')
    return {placeholder, secretId: id}
  })
}

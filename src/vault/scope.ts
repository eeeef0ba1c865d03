import {usageError} from '../errors'
import {nameProblem, SCOPE_ID} from './names'

/** Where a secret or credential applies (SPEC §15): global, a workspace, or a group in one. */
export type SecretScope =
  | {type: 'global'}
  | {type: 'workspace'; workspaceId: string}
  | {type: 'group'; workspaceId: string; groupId: string}

export const GLOBAL_SCOPE: SecretScope = {type: 'global'}

/** Build a scope from command-line flags; malformed combinations are usage errors (exit 2). */
export function scopeFromFlags(flags: {scope?: string; 'workspace-id'?: string; 'group-id'?: string}): SecretScope {
  const workspaceId = flags['workspace-id']
  const groupId = flags['group-id']
  for (const [flag, kind, value] of [['--workspace-id', 'workspace', workspaceId], ['--group-id', 'group', groupId]] as const) {
    const problem = value === undefined ? undefined : nameProblem(kind, value)
    if (problem) throw usageError(`${flag} ${problem.message}`, problem.hint)
  }
  if (groupId && !workspaceId && flags.scope === undefined) throw groupNeedsWorkspace()
  const type = flags.scope ?? (groupId ? 'group' : workspaceId ? 'workspace' : 'global')
  switch (type) {
    case 'global':
      if (workspaceId || groupId) throw usageError('--scope global takes no --workspace-id or --group-id')
      return {type: 'global'}
    case 'workspace':
      if (!workspaceId) throw usageError('--scope workspace needs --workspace-id', 'add --workspace-id <id>')
      if (groupId) throw usageError('--scope workspace takes no --group-id', 'use --scope group for a group secret')
      return {type: 'workspace', workspaceId}
    case 'group':
      if (!workspaceId || !groupId) throw usageError('--scope group needs --workspace-id and --group-id')
      return {type: 'group', workspaceId, groupId}
    default:
      throw usageError(`unknown scope ${JSON.stringify(type)}`, 'use global, workspace or group')
  }
}

function groupNeedsWorkspace() {
  return usageError('--group-id needs --workspace-id: a group lives inside a workspace', 'add --workspace-id <id> (the --scope is then group)')
}

/** Which secrets a listing shows: one scope type, narrowed by whichever ids were given. */
export interface ScopeFilter {
  type: SecretScope['type']
  workspaceId?: string
  groupId?: string
}

/**
 * A listing's filter from flags. Unlike scopeFromFlags, ids may be left out to list a whole
 * kind: `--scope workspace` alone lists every workspace's secrets. Undefined lists everything.
 */
export function scopeFilterFromFlags(flags: {scope?: string; 'workspace-id'?: string; 'group-id'?: string}): ScopeFilter | undefined {
  const workspaceId = flags['workspace-id']
  const groupId = flags['group-id']
  if (flags.scope === undefined) return workspaceId || groupId ? scopeFromFlags(flags) : undefined
  if (flags.scope === 'workspace' && !workspaceId && !groupId) return {type: 'workspace'}
  if (flags.scope === 'group' && !(workspaceId && groupId)) {
    if (groupId) throw groupNeedsWorkspace()
    // Every group of one workspace: the id is checked as scopeFromFlags checks it.
    return workspaceId ? {...scopeFromFlags({'workspace-id': workspaceId}), type: 'group'} : {type: 'group'}
  }
  return scopeFromFlags(flags)
}

export function matchesFilter(scope: SecretScope, filter: ScopeFilter): boolean {
  if (scope.type !== filter.type) return false
  if (scope.type === 'global') return true
  if (filter.workspaceId !== undefined && scope.workspaceId !== filter.workspaceId) return false
  return filter.groupId === undefined || (scope.type === 'group' && scope.groupId === filter.groupId)
}

/**
 * The machine form, sealed into every secret's associated data (seal.ts) and used to compare
 * scopes: it must never change, or sealed values stop opening. People read scopeLabel instead.
 */
export function scopeKey(scope: SecretScope): string {
  switch (scope.type) {
    case 'global':
      return 'global'
    case 'workspace':
      return `workspace:${scope.workspaceId}`
    case 'group':
      return `group:${scope.workspaceId}:${scope.groupId}`
  }
}

/**
 * The one text form people read, in every listing and message: `global`, `workspace:<w>`,
 * `group:<w>/<g>`. The slash reads as "group g inside workspace w" and keeps the label apart
 * from the `:`-joined machine forms (scopeKey, credential ids like `openai:group:w:g`).
 */
export function scopeLabel(scope: SecretScope): string {
  switch (scope.type) {
    case 'global':
      return 'global'
    case 'workspace':
      return `workspace:${scope.workspaceId}`
    case 'group':
      return `group:${scope.workspaceId}/${scope.groupId}`
  }
}

/** The scope a record's workspace and group ids name (credentials, bindings); a group without its workspace stays a group. */
export function scopeOfIds(workspaceId: string | null, groupId: string | null): SecretScope {
  if (groupId) return {type: 'group', workspaceId: workspaceId ?? '', groupId}
  return workspaceId ? {type: 'workspace', workspaceId} : GLOBAL_SCOPE
}

export function sameScope(a: SecretScope, b: SecretScope): boolean {
  return scopeKey(a) === scopeKey(b)
}

/** Credential ids from auto-provisioning: `<provider>`, `<provider>:ws:<w>`, `<provider>:group:<w>:<g>`. */
export function scopedCredentialId(provider: string, scope: SecretScope): string {
  switch (scope.type) {
    case 'global':
      return provider
    case 'workspace':
      return `${provider}:ws:${scope.workspaceId}`
    case 'group':
      return `${provider}:group:${scope.workspaceId}:${scope.groupId}`
  }
}

/** Parse a scope object read from YAML; undefined when the shape is wrong. */
export function parseScope(value: unknown): SecretScope | undefined {
  if (!value || typeof value !== 'object') return undefined
  const v = value as Record<string, unknown>
  const str = (x: unknown): x is string => typeof x === 'string' && SCOPE_ID.test(x)
  if (v.type === 'global' && Object.keys(v).length === 1) return {type: 'global'}
  if (v.type === 'workspace' && str(v.workspaceId) && Object.keys(v).length === 2) return {type: 'workspace', workspaceId: v.workspaceId}
  if (v.type === 'group' && str(v.workspaceId) && str(v.groupId) && Object.keys(v).length === 3) {
    return {type: 'group', workspaceId: v.workspaceId, groupId: v.groupId}
  }
  return undefined
}

export function scopeWorkspace(scope: SecretScope): string | undefined {
  return scope.type === 'global' ? undefined : scope.workspaceId
}

export function scopeGroup(scope: SecretScope): string | undefined {
  return scope.type === 'group' ? scope.groupId : undefined
}

import type {CredentialView} from '../vault/credentials-service'
import {plural, table} from './text'

function scopeOf(c: CredentialView): string {
  if (c.groupId) return `group:${c.workspaceId}/${c.groupId}`
  if (c.workspaceId) return `workspace:${c.workspaceId}`
  return 'global'
}

export function renderCredentialCreated(c: CredentialView): string {
  return `Credential created: ${c.id} (provider ${c.provider}, ${c.auth.type} auth, hosts ${c.hosts.join(', ')})`
}

export function renderCredentialList(credentials: CredentialView[]): string {
  if (credentials.length === 0) return 'No credentials.\n0 credentials'
  const rows = credentials.map((c) => [c.id, c.provider, c.auth.type, c.hosts.join(','), scopeOf(c), Object.keys(c.secretRefs).join(',')])
  return `${table(['ID', 'PROVIDER', 'AUTH', 'HOSTS', 'SCOPE', 'SECRETS'], rows)}\n${plural(credentials.length, 'credential')}`
}

import type {CredentialListing, CredentialView} from '../vault/credentials-service'
import {plural, table} from './text'

/** `waiting`: the command that completes a per-tenant credential that has no tenant host yet. */
export function renderCredentialCreated(c: CredentialView, waiting?: string): string {
  return credentialLines('Credential created', c, waiting)
}

export function renderCredentialUpdated(c: CredentialView, changed: boolean, waiting?: string): string {
  return credentialLines(changed ? 'Credential updated' : 'Credential unchanged', c, waiting)
}

function credentialLines(verb: string, c: CredentialView, waiting: string | undefined): string {
  const line = `${verb}: ${c.id} (provider ${c.provider}, ${c.auth.type} auth, hosts ${c.hosts.join(', ')})`
  return waiting ? `${line}\n${tenantWaitLines(c.provider, waiting)}` : line
}

/** SPEC §4: a per-tenant credential waiting for its host, and the command that completes it. */
export function tenantWaitLines(provider: string, command: string): string {
  return `Waiting for a tenant host to complete ${provider} credential\nRun: ${command}`
}

export function renderCredentialList({credentials, scopeLabels}: CredentialListing): string {
  if (credentials.length === 0) return 'No credentials.'
  const rows = credentials.map((c, i) => [c.id, c.provider, c.auth.type, c.hosts.join(','), scopeLabels[i], Object.keys(c.secretRefs).join(',')])
  return `${table(['ID', 'PROVIDER', 'AUTH', 'HOSTS', 'SCOPE', 'SECRETS'], rows)}\n${plural(credentials.length, 'credential')}`
}

import type {DeleteResult, ImportResult, SecretChange, SecretListing} from '../vault/secrets-service'
import type {ProvisionOutcome} from '../vault/provisioning'
import type {SecretMeta} from '../vault/store/secret-record'
import {tenantWaitLines} from './credentials'
import {plural, table} from './text'

/** The provisioning line of SPEC §3/§15, or nothing for an unpinned secret. */
export function provisionLine(outcome: Pick<ProvisionOutcome, 'provider' | 'credential' | 'created' | 'waitingFor' | 'completeWith' | 'capabilitiesEnabled'>): string | undefined {
  if (outcome.completeWith) return tenantWaitLines(outcome.provider, outcome.completeWith)
  if (outcome.waitingFor.length > 0) return `Waiting for ${outcome.waitingFor.join(', ')} to complete ${outcome.provider} credential`
  if (outcome.created && outcome.credential) {
    return `Credential auto-provisioned: ${outcome.credential.id} (${plural(outcome.capabilitiesEnabled, 'capability', 'capabilities')} enabled)`
  }
  return undefined
}

function pinnedSuffix(secret: SecretMeta): string {
  return secret.pinnedProvider ? ` (pinned to provider: ${secret.pinnedProvider})` : ''
}

function changeLines(verb: string, result: SecretChange): string {
  const lines = [`${verb}: ${result.secret.name}${pinnedSuffix(result.secret)}`]
  if (result.secret.pinnedProvider) {
    const line = provisionLine({...result, provider: result.secret.pinnedProvider, created: result.credentialCreated})
    if (line) lines.push(line)
  }
  return lines.join('\n')
}

export const renderCreated = (result: SecretChange): string => changeLines('Secret created', result)

export function renderRotated(result: SecretChange): string {
  return `Secret rotated: ${result.secret.name} (value version ${result.secret.valueVersion})`
}

export function renderUpdated(result: SecretChange): string {
  const aliases = result.secret.aliases.length > 0 ? ` (aliases: ${result.secret.aliases.join(', ')})` : ''
  return `Secret updated: ${result.secret.name}${aliases}`
}

export function renderDeleted(result: DeleteResult): string {
  return [
    `Deleted secret ${result.deleted.name} (${result.deleted.id})`,
    ...result.removed.credentials.map((id) => `Removed credential ${id}`),
    ...result.removed.bindings.map((id) => `Removed binding ${id}`),
  ].join('\n')
}

/** `groupLabel`: scopeLabel of the group (`group:<w>/<g>`). */
export function renderGroupChange(secret: SecretMeta, groupLabel: string, attach: boolean, changed: boolean): string {
  if (!changed) return attach ? `${secret.name} was already attached to ${groupLabel}` : `${secret.name} was not attached to ${groupLabel}`
  return `${attach ? 'Attached' : 'Detached'} ${secret.name} ${attach ? 'to' : 'from'} ${groupLabel}`
}

export function renderList(listing: SecretListing): string {
  if (listing.secrets.length === 0) return 'No secrets.'
  const rows = listing.secrets.map((s, i) => [s.name, listing.scopeLabels[i], s.pinnedProvider ?? '-', `v${s.valueVersion}`, s.aliases.join(',') || '-', s.id])
  return `${table(['NAME', 'SCOPE', 'PROVIDER', 'VERSION', 'ALIASES', 'ID'], rows)}\n${plural(listing.secrets.length, 'secret')}`
}

function pinnedNote(result: ImportResult, name: string): string {
  const provider = result.pinned[name]
  return provider ? ` (pinned to provider: ${provider})` : ''
}

export function renderImport(result: ImportResult): string {
  const lines = [
    ...result.created.map((name) => `Created ${name}${pinnedNote(result, name)}`),
    ...result.rotated.map((name) => `Rotated ${name}${pinnedNote(result, name)}`),
    ...result.skipped.map((s) => `Skipped ${s.name}: ${s.reason}`),
    ...result.provisioned.map((p) => provisionLine(p)).filter((l): l is string => l !== undefined),
  ]
  const total = result.created.length + result.rotated.length + result.skipped.length
  lines.push(`Imported ${plural(total, 'entry', 'entries')}: ${result.created.length} created, ${result.rotated.length} rotated, ${result.skipped.length} skipped`)
  return lines.join('\n')
}

import type {CapabilityDescription, CapabilityListing} from '../broker/capability-catalog'
import {plural} from './text'

export function renderCapabilityList(listing: CapabilityListing): string {
  const lines: string[] = []
  lines.push(`Ready (${plural(listing.ready.length, 'capability', 'capabilities')}):`)
  if (listing.ready.length === 0) lines.push('  none yet: store a provider secret to enable its capabilities')
  for (const c of listing.ready) lines.push(`  ${c.id}  (credential ${c.credential})`)
  lines.push('', `Available (${plural(listing.available.length, 'capability', 'capabilities')}):`)
  const byProvider = new Map<string, typeof listing.available>()
  for (const c of listing.available) byProvider.set(c.provider, [...(byProvider.get(c.provider) ?? []), c])
  for (const [provider, caps] of byProvider) {
    lines.push(`  ${provider} (${plural(caps.length, 'capability', 'capabilities')}): ${caps.map((c) => c.id.slice(provider.length + 1)).join(', ')}`)
    for (const command of caps[0].setup) lines.push(`    enable: ${command}`)
  }
  return lines.join('\n')
}

export function renderCapabilityDescription(d: CapabilityDescription): string {
  const lines = [`${d.id}${d.title ? ` — ${d.title}` : ''}`]
  if (d.description) lines.push(d.description)
  lines.push('', `Provider:      ${d.provider}${d.docsUrl ? ` (${d.docsUrl})` : ''}`, `Methods:       ${d.methods.join(', ')}`, `Hosts:         ${d.hosts.join(', ')}`, `Path prefixes: ${d.pathPrefixes.join(', ')}`)
  if (d.defaults.method || d.defaults.path) lines.push(`Defaults:      ${[d.defaults.method, d.defaults.path].filter(Boolean).join(' ')}`)
  if (d.requiredSecrets.length > 0) {
    lines.push('', 'Required secrets:')
    for (const s of d.requiredSecrets) lines.push(`  ${s.name}  ->  ${s.command}`)
  }
  lines.push('', 'Examples:')
  for (const e of d.examples) lines.push(`  # ${e.title}`, `  ${e.command}`)
  return lines.join('\n')
}

import type {CapabilityDescription, CapabilityListing} from '../broker/credential/capability-catalog'
import {bold, green} from './colour'
import {plural} from './text'

export function renderCapabilityList(listing: CapabilityListing): string {
  const lines: string[] = []
  lines.push(green(`Ready (${plural(listing.ready.length, 'capability', 'capabilities')}):`))
  if (listing.ready.length === 0 && listing.waiting.length === 0) lines.push('  none yet: store a provider secret to enable its capabilities')
  for (const c of listing.ready) lines.push(`  ${c.id}  (credential ${c.credential}${c.plugin ? `, plugin ${c.plugin}` : ''}${c.transport === 'plugin' ? ', served by the plugin, not HTTP' : ''})`)
  if (listing.waiting.length > 0) {
    lines.push('', bold(`Waiting for a tenant host (${plural(listing.waiting.length, 'capability', 'capabilities')}):`))
    groupedByProvider(lines, listing.waiting, 'complete')
  }
  lines.push('', bold(`Available (${plural(listing.available.length, 'capability', 'capabilities')}):`))
  groupedByProvider(lines, listing.available, 'enable')
  return lines.join('\n')
}

/** One line per provider with its capabilities' short names, then the commands that set it up. */
function groupedByProvider(lines: string[], capabilities: Array<{id: string; provider: string; setup: string[]; plugin?: string}>, verb: string): void {
  const byProvider = new Map<string, typeof capabilities>()
  for (const c of capabilities) byProvider.set(c.provider, [...(byProvider.get(c.provider) ?? []), c])
  for (const [provider, caps] of byProvider) {
    const from = caps[0].plugin ? ` from plugin ${caps[0].plugin}` : ''
    lines.push(`  ${provider}${from} (${plural(caps.length, 'capability', 'capabilities')}): ${caps.map((c) => (c.id.startsWith(`${provider}/`) ? c.id.slice(provider.length + 1) : c.id)).join(', ')}`)
    for (const command of caps[0].setup) lines.push(`    ${verb}: ${command}`)
  }
}

export function renderCapabilityDescription(d: CapabilityDescription): string {
  const lines = [`${d.id}${d.title ? ` — ${d.title}` : ''}`]
  if (d.description) lines.push(d.description)
  lines.push('', `Provider:      ${d.provider}${d.plugin ? `, from plugin ${d.plugin}` : ''}${d.docsUrl ? ` (${d.docsUrl})` : ''}`)
  if (d.transport === 'plugin') lines.push(`Transport:     plugin (the plugin's provider hook answers, not an HTTP upstream)`)
  lines.push(`Methods:       ${d.methods.join(', ')}`, `Hosts:         ${d.hosts.join(', ')}`, `Path prefixes: ${d.pathPrefixes.join(', ')}`)
  if (d.defaults.method || d.defaults.path) lines.push(`Defaults:      ${[d.defaults.method, d.defaults.path].filter(Boolean).join(' ')}`)
  if (d.requiredSecrets.length > 0) {
    lines.push('', 'Required secrets:')
    for (const s of d.requiredSecrets) lines.push(`  ${s.name}  ->  ${s.command}`)
  }
  lines.push('', 'Examples:')
  for (const e of d.examples) lines.push(`  # ${e.title}`, `  ${e.command}`)
  return lines.join('\n')
}

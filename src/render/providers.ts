import type {ProviderDetail} from '../broker/credential/provider-catalog'
import {table} from './text'

/** `providers show`: the provider's facts, how to enable it, then its capabilities as aligned columns. */
export function renderProvider(p: ProviderDetail): string {
  const state = p.state === 'not set up' ? p.state : `${p.state === 'waiting' ? 'waiting for a tenant host' : p.state} (credential ${p.credentials.join(', ')})`
  const facts: [string, string][] = [
    ...(p.plugin ? [['Plugin', p.plugin] as [string, string]] : []),
    ['Docs', p.docsUrl ?? '-'],
    ['Auth', p.auth],
    ['Hosts', p.hosts.join(', ')],
    ['Secrets', p.secrets.join(', ')],
    ['State', state],
  ]
  const lines = [`${p.provider}${p.title ? ` — ${p.title}` : ''}`]
  if (p.description) lines.push(p.description)
  lines.push('', ...facts.map(([label, value]) => `${`${label}:`.padEnd(10)}${value}`))
  if (p.setup.length > 0) lines.push('Enable:', ...p.setup.map((c) => `  ${c}`))
  const rows = p.capabilityList.map((c) => [c.id, c.methods.join(','), c.pathPrefixes.join(' ') + (c.transport === 'plugin' ? '  (plugin transport)' : '')])
  const columns = table(['CAPABILITY', 'METHODS', 'PATHS'], rows).split('\n').map((l) => `  ${l}`)
  lines.push('', `Capabilities (${p.capabilities}):`, ...(rows.length > 0 ? columns : []))
  return lines.join('\n')
}

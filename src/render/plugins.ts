import type {PluginChange} from '../plugins/manage'
import type {PluginListing} from '../plugins/listing'
import {plural, table} from './text'

/** `plugins list`: one row per plugin, then each refusal on a line of its own. */
export function renderPluginList(plugins: readonly PluginListing[]): string {
  if (plugins.length === 0) return 'No plugins installed. Add one with: aivault plugins install <npm name | folder | .tgz>'
  const rows = plugins.map((p) => [
    p.name,
    p.version,
    p.type === 'link' ? 'linked' : 'installed',
    p.providers.join(', ') || '-',
    p.hooks.map((h) => h.replace(/^aivault:/, '')).join(', ') || '-',
    // Trust matters only to a provider hook: the one hook that receives secrets.
    !p.hooks.includes('aivault:provider') ? '-' : p.trust.trusted ? 'trusted' : p.trust.reason ?? 'not trusted',
  ])
  const refusals = plugins.flatMap((p) => p.refused.map((r) => `  refused: ${p.name}${r.provider ? ` provider "${r.provider}"` : ''}: ${r.reason}`))
  return [table(['PLUGIN', 'VERSION', 'TYPE', 'PROVIDERS', 'HOOKS', 'TRUST'], rows), ...refusals, plural(plugins.length, 'plugin')].join('\n')
}

/** After install or link: what the plugin adds, and what `--force` let through. */
export function renderPluginChange(verb: 'Installed' | 'Linked', change: PluginChange): string {
  const lines = [`${verb} plugin ${change.name} ${change.version} (${change.root})`]
  if (change.providers.length > 0) lines.push(`  providers: ${change.providers.join(', ')}`)
  if (change.commands.length > 0) lines.push(`  commands: ${change.commands.join(', ')}`)
  if (change.hooks.length > 0) lines.push(`  hooks: ${change.hooks.join(', ')}`)
  for (const note of change.overridden) lines.push(`  forced: ${note}`)
  if (change.hooks.includes('aivault:provider')) lines.push(`Its provider hook receives decrypted secrets: review it, then run aivault plugins trust ${change.name}`)
  return lines.join('\n')
}

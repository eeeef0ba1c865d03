import {Args} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import type {ProviderDetail} from '../../broker/credential/provider-catalog'
import {showProvider} from '../../broker/credential/provider-catalog'
import {Vault} from '../../vault/vault'
import {loadRegistry} from '../../plugins/runtime'

export default class ProvidersShow extends AivaultCommand {
  static summary = 'Show one provider: secrets, auth, hosts, how to enable it, and its capabilities.'

  static examples = ['<%= config.bin %> providers show stripe']

  static args = {provider: Args.string({description: 'Provider id.', required: true})}

  async run(): Promise<ProviderDetail> {
    const {args} = await this.parse(ProvidersShow)
    const p = showProvider(Vault.fromEnv(), loadRegistry(), args.provider)
    const lines = [`${p.provider}${p.title ? ` — ${p.title}` : ''}`]
    if (p.description) lines.push(p.description)
    lines.push('', ...(p.plugin ? [`Plugin:   ${p.plugin}`] : []), `Docs:     ${p.docsUrl ?? '-'}`, `Auth:     ${p.auth}`, `Hosts:    ${p.hosts.join(', ')}`, `Secrets:  ${p.secrets.join(', ')}`, `State:    ${p.state === 'not set up' ? p.state : `${p.state === 'waiting' ? 'waiting for a tenant host' : p.state} (credential ${p.credentials.join(', ')})`}`)
    if (p.setup.length > 0) lines.push('Enable:', ...p.setup.map((c) => `  ${c}`))
    lines.push('', `Capabilities (${p.capabilities}):`, ...p.capabilityList.map((c) => `  ${c.id.padEnd(40)} ${c.methods.join(',').padEnd(18)} ${c.pathPrefixes.join(' ')}${c.transport === 'plugin' ? '  (plugin transport)' : ''}`))
    this.log(lines.join('\n'))
    return p
  }
}

import {AivaultCommand} from '../../base-command'
import type {ProviderSummary} from '../../broker/credential/provider-catalog'
import {listProviders} from '../../broker/credential/provider-catalog'
import {plural, table} from '../../render/text'
import {Vault} from '../../vault/vault'
import {loadRegistry} from '../../plugins/runtime'

export default class ProvidersList extends AivaultCommand {
  static summary = 'List the providers (built-in and from plugins): the secrets that enable them, auth, capabilities, and which are set up.'

  static examples = ['<%= config.bin %> providers list', '<%= config.bin %> providers list --json']

  async run(): Promise<{providers: ProviderSummary[]}> {
    await this.parse(ProvidersList)
    const providers = listProviders(Vault.fromEnv(), loadRegistry())
    const rows = providers.map((p) => [p.plugin ? `${p.provider} (${p.plugin})` : p.provider, p.secrets.join(' + '), p.auth, String(p.capabilities), p.state === 'not set up' ? '-' : p.state])
    this.log(`${table(['PROVIDER', 'SECRETS', 'AUTH', 'CAPABILITIES', 'STATE'], rows)}\n${plural(providers.length, 'provider')}`)
    return {providers}
  }
}

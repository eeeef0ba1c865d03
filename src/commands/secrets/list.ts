import {AivaultCommand} from '../../base-command'
import {scopeFlags} from '../../cli/flags'
import {renderList} from '../../render/secrets'
import type {SecretMeta} from '../../vault/store/secret-record'
import {listSecrets} from '../../vault/secrets-service'
import {scopeFilterFromFlags} from '../../vault/scope'
import {Vault} from '../../vault/vault'

export default class SecretsList extends AivaultCommand {
  static summary = 'List secrets (metadata only, sorted by name; values are never shown).'

  static examples = ['<%= config.bin %> secrets list', '<%= config.bin %> secrets list --scope workspace --workspace-id team --json', '<%= config.bin %> secrets list --scope workspace']

  static flags = {...scopeFlags}

  async run(): Promise<{secrets: SecretMeta[]}> {
    const {flags} = await this.parse(SecretsList)
    const listing = listSecrets(Vault.fromEnv(), {scope: scopeFilterFromFlags(flags)})
    for (const problem of listing.problems) this.note(`skipped ${problem.file}: ${problem.message}`)
    this.log(renderList(listing))
    return {secrets: listing.secrets}
  }
}

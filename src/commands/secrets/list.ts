import {AivaultCommand} from '../../base-command'
import {secretsListOutcome} from '../../cli/fast/listing-commands'
import {scopeFlags} from '../../cli/flags'
import type {SecretMeta} from '../../vault/store/secret-record'
import {scopeFilterFromFlags} from '../../vault/scope'

export default class SecretsList extends AivaultCommand {
  static summary = 'List secrets (metadata only, sorted by name; values are never shown).'

  static examples = ['<%= config.bin %> secrets list', '<%= config.bin %> secrets list --scope workspace --workspace-id team --json', '<%= config.bin %> secrets list --scope workspace']

  static flags = {...scopeFlags}

  async run(): Promise<{secrets: SecretMeta[]}> {
    const {flags} = await this.parse(SecretsList)
    const {result, text, notes} = secretsListOutcome(scopeFilterFromFlags(flags))
    for (const note of notes) this.note(note)
    this.log(text)
    return result
  }
}

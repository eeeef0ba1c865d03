import {AivaultCommand} from '../../base-command'
import {renderRecipientsList} from '../../render/recipients'
import type {RecipientsList} from '../../vault/recipients'
import {listRecipients} from '../../vault/recipients'
import {Vault} from '../../vault/vault'

export default class RecipientsListCommand extends AivaultCommand {
  static summary = 'List the members who can open this recipients vault.'

  static description = 'Verified against vault.yaml\'s MAC when your identity opens the vault; otherwise shown as vault.yaml has it ("verified": false).'

  static examples = ['<%= config.bin %> recipients list', '<%= config.bin %> recipients list --json']

  async run(): Promise<RecipientsList> {
    await this.parse(RecipientsListCommand)
    const result = await listRecipients(Vault.fromEnv())
    this.log(renderRecipientsList(result))
    return result
  }
}

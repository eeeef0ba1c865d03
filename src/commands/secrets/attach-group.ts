import {AivaultCommand} from '../../base-command'
import {changeGroup, groupFlags} from '../../cli/group'
import type {SecretMeta} from '../../vault/store/secret-record'

export default class SecretsAttachGroup extends AivaultCommand {
  static summary = 'Let a workspace group use a secret (idempotent).'

  static examples = ['<%= config.bin %> secrets attach-group --id <id> --workspace-id team --group-id backend']

  static flags = groupFlags

  async run(): Promise<{secret: SecretMeta; changed: boolean}> {
    const {flags} = await this.parse(SecretsAttachGroup)
    const {secret, changed, text} = await changeGroup(flags, true)
    this.log(text)
    return {secret, changed}
  }
}

import {AivaultCommand} from '../../base-command'
import {changeGroup, groupFlags} from '../../cli/group'
import type {SecretMeta} from '../../vault/store/secret-record'

export default class SecretsDetachGroup extends AivaultCommand {
  static summary = 'Stop a workspace group from using a secret (idempotent).'

  static examples = ['<%= config.bin %> secrets detach-group --id <id> --workspace-id team --group-id backend']

  static flags = groupFlags

  async run(): Promise<{secret: SecretMeta; changed: boolean}> {
    const {flags} = await this.parse(SecretsDetachGroup)
    const {secret, changed, text} = await changeGroup(flags, false)
    this.log(text)
    return {secret, changed}
  }
}

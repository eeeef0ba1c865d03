import {Args} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import {deleteCredential} from '../../vault/credentials-service'
import {Vault} from '../../vault/vault'

export default class CredentialDelete extends AivaultCommand {
  static summary = 'Delete a credential and its bindings (the secrets stay).'

  static examples = ['<%= config.bin %> credential delete openai:ws:team']

  static args = {
    id: Args.string({description: 'Credential id.', required: true}),
  }

  async run(): Promise<{deleted: string; removed: {bindings: string[]}}> {
    const {args} = await this.parse(CredentialDelete)
    const result = await deleteCredential(Vault.fromEnv(), args.id)
    this.log([`Deleted credential ${result.deleted}`, ...result.removed.bindings.map((id) => `Removed binding ${id}`)].join('\n'))
    return result
  }
}

import {AivaultCommand} from '../../base-command'
import {parseSecretRef, secretRefFlags} from '../../cli/secret-ref'
import {renderDeleted} from '../../render/secrets'
import type {DeleteResult} from '../../vault/secrets-service'
import {deleteSecret} from '../../vault/secrets-service'
import {Vault} from '../../vault/vault'

export default class SecretsDelete extends AivaultCommand {
  static summary = 'Delete a secret and the credentials and bindings that depended on it.'

  static examples = ['<%= config.bin %> secrets delete --name OPENAI_API_KEY', '<%= config.bin %> secrets delete --id <id>']

  static flags = {...secretRefFlags}

  async run(): Promise<DeleteResult> {
    const {flags} = await this.parse(SecretsDelete)
    const result = await deleteSecret(Vault.fromEnv(), parseSecretRef(flags))
    this.log(renderDeleted(result))
    return result
  }
}

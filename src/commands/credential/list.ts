import {AivaultCommand} from '../../base-command'
import {registryCatalog} from '../../plugins/runtime'
import {renderCredentialList} from '../../render/credentials'
import type {CredentialView} from '../../vault/credentials-service'
import {credentialView, listCredentials} from '../../vault/credentials-service'
import {Vault} from '../../vault/vault'

export default class CredentialList extends AivaultCommand {
  static summary = 'List credentials (provider, auth strategy, hosts, secret references).'

  static examples = ['<%= config.bin %> credential list', '<%= config.bin %> credential list --json']

  async run(): Promise<{credentials: CredentialView[]}> {
    await this.parse(CredentialList)
    const {credentials, problems} = listCredentials(Vault.fromEnv())
    for (const problem of problems) this.note(`skipped ${problem.file}: ${problem.message}`)
    const catalog = registryCatalog()
    const views = credentials.map((c) => credentialView(c, catalog))
    this.log(renderCredentialList(views))
    return {credentials: views}
  }
}

import {AivaultCommand} from '../../base-command'
import {registryCatalog} from '../../plugins/runtime'
import {renderCredentialList} from '../../render/credentials'
import type {CredentialView} from '../../vault/credentials-service'
import {credentialListing} from '../../vault/credentials-service'
import {Vault} from '../../vault/vault'

export default class CredentialList extends AivaultCommand {
  static summary = 'List credentials (provider, auth strategy, hosts, secret references).'

  static examples = ['<%= config.bin %> credential list', '<%= config.bin %> credential list --json']

  async run(): Promise<{credentials: CredentialView[]}> {
    await this.parse(CredentialList)
    const listing = credentialListing(Vault.fromEnv(), registryCatalog())
    for (const problem of listing.problems) this.note(`skipped ${problem.file}: ${problem.message}`)
    this.log(renderCredentialList(listing))
    return {credentials: listing.credentials}
  }
}

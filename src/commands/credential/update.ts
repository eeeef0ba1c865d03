import {Args, Flags} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import {authFlags, authFromFlags} from '../../cli/auth-flags'
import {parseCredentialHosts} from '../../cli/hosts'
import {sealingVault} from '../../cli/vault-access'
import {usageError} from '../../errors'
import {registryCatalog} from '../../plugins/runtime'
import {renderCredentialUpdated} from '../../render/credentials'
import type {CredentialView} from '../../vault/credentials-service'
import {credentialView, updateCredential, waitingCommand} from '../../vault/credentials-service'

export default class CredentialUpdate extends AivaultCommand {
  static summary = "Change a credential's hosts (a per-tenant provider's tenant host) or, for a custom provider, its auth."

  static description = `--host replaces the hosts. For a per-tenant registry provider (hosts such as *.zendesk.com) it names the tenant, which completes an auto-provisioned credential and binds its secrets to that tenant for good. Custom providers may also change --auth and the auth flags (an oauth2 --token-endpoint needs its --host values given too).`

  static examples = [
    '<%= config.bin %> credential update zendesk --host acme.zendesk.com',
    '<%= config.bin %> credential update my-api --host api2.example.com',
  ]

  static args = {
    id: Args.string({description: 'Credential id.', required: true}),
  }

  static flags = {
    host: Flags.string({description: 'Upstream host (repeatable); replaces the current hosts.', multiple: true}),
    ...authFlags,
  }

  async run(): Promise<CredentialView> {
    const {args, flags} = await this.parse(CredentialUpdate)
    const hosts = flags.host ? parseCredentialHosts(flags.host) : undefined
    const auth = authFromFlags(flags, hosts ?? [])
    if (!hosts && !auth) throw usageError('nothing to update', 'pass --host, or --auth with its flags')
    const catalog = registryCatalog()
    const {credential, changed} = await updateCredential(sealingVault(), catalog, args.id, {hosts, auth})
    const view = credentialView(credential, catalog)
    this.log(renderCredentialUpdated(view, changed, waitingCommand(credential, catalog)))
    return view
  }
}

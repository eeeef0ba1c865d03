import {Args, Flags} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import {authFlags, authFromFlags} from '../../cli/auth-flags'
import {checkName, parseTenantTarget} from '../../cli/flags'
import {parseCredentialHosts} from '../../cli/hosts'
import {parseCredentialSecretRefs} from '../../cli/secret-ref'
import {sealingVault} from '../../cli/vault-access'
import {registryCatalog} from '../../plugins/runtime'
import {renderCredentialCreated} from '../../render/credentials'
import type {CredentialView} from '../../vault/credentials-service'
import {createCredential, credentialView, waitingCommand} from '../../vault/credentials-service'

export default class CredentialCreate extends AivaultCommand {
  static summary = 'Create a credential: which secret authenticates to which provider hosts, and how.'

  static description = `Registry providers take their auth strategy and hosts from the built-in registry; --host may only narrow them (per-tenant hosts such as my-store.myshopify.com, which binds the secrets to that tenant for good).
Custom providers need --auth and exact --host values.
Multi-secret providers take --secret-ref PLACEHOLDER=vault:secret:<id> once per placeholder.`

  static examples = [
    '<%= config.bin %> credential create shop --provider shopify --secret-ref vault:secret:<id> --host my-store.myshopify.com',
    '<%= config.bin %> credential create my-api --provider my-api --secret-ref vault:secret:<id> --auth header --header-name x-api-key --value-template "{{secret}}" --host api.example.com',
  ]

  static args = {
    id: Args.string({description: 'Credential id.', required: true}),
  }

  static flags = {
    provider: Flags.string({description: 'Registry provider id, or a name for a custom provider.', required: true}),
    'secret-ref': Flags.string({description: 'vault:secret:<id>, or PLACEHOLDER=vault:secret:<id> (repeatable).', required: true, multiple: true}),
    host: Flags.string({description: 'Upstream host (repeatable).', multiple: true}),
    'workspace-id': Flags.string({description: 'Workspace this credential serves.'}),
    'group-id': Flags.string({description: 'Group this credential serves (with --workspace-id).'}),
    ...authFlags,
  }

  async run(): Promise<CredentialView> {
    const {args, flags} = await this.parse(CredentialCreate)
    checkName('credential', args.id, 'credential id')
    checkName('provider', flags.provider, '--provider')
    const {workspaceId, groupId} = parseTenantTarget(flags)
    const hosts = parseCredentialHosts(flags.host ?? [])
    const secretRefs = parseCredentialSecretRefs(flags['secret-ref'])
    const auth = authFromFlags(flags, hosts)
    const catalog = registryCatalog()
    const record = await createCredential(sealingVault(), catalog, {
      id: args.id,
      provider: flags.provider,
      secretRefs,
      auth,
      hosts,
      workspaceId,
      groupId,
    })
    const view = credentialView(record, catalog)
    this.log(renderCredentialCreated(view, waitingCommand(record, catalog)))
    return view
  }
}

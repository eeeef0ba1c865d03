import {Args, Flags} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import {parseCapabilityHosts} from '../../cli/hosts'
import {checkName} from '../../cli/flags'
import {usageError} from '../../errors'
import type {CustomCapability} from '../../vault/store/broker-records'
import {createCustomCapability} from '../../broker/admin'
import {Vault} from '../../vault/vault'
import {loadRegistry} from '../../plugins/runtime'

export default class CapabilityCreate extends AivaultCommand {
  static summary = "Create a custom capability: which methods and path prefixes a provider's credentials may be used for."

  static examples = [
    '<%= config.bin %> capability create my-api/read --provider my-api --method GET --path /v1/items',
    '<%= config.bin %> capability create openai/models-only --credential openai --method GET --path /v1/models',
  ]

  static args = {id: Args.string({description: 'Capability id (<provider>/<name> is customary).', required: true})}

  static flags = {
    provider: Flags.string({description: 'Provider whose credentials serve it.', exclusive: ['credential']}),
    credential: Flags.string({description: 'Take the provider and hosts from this credential (any credential of that provider serves it).'}),
    method: Flags.string({description: 'Allowed HTTP method (repeatable).', multiple: true, required: true}),
    path: Flags.string({description: 'Allowed path prefix (repeatable; "/" allows every path).', multiple: true, required: true}),
    host: Flags.string({description: "Allowed host or *.suffix pattern (repeatable; defaults to the credential or provider hosts). A registry provider's must match its hosts; IP literals only in a testing vault.", multiple: true}),
  }

  async run(): Promise<CustomCapability> {
    const {args, flags} = await this.parse(CapabilityCreate)
    if (!flags.provider && !flags.credential) throw usageError('a capability needs --provider or --credential')
    checkName('capability', args.id, 'capability id')
    if (flags.provider !== undefined) checkName('provider', flags.provider, '--provider')
    if (flags.credential !== undefined) checkName('credential', flags.credential, '--credential')
    const methods = flags.method.map((m) => {
      if (!/^[A-Za-z]+$/.test(m)) throw usageError(`--method ${JSON.stringify(m)} is not an HTTP method`)
      return m.toUpperCase()
    })
    for (const p of flags.path) if (!p.startsWith('/') || p.includes('..') || p.includes('?')) throw usageError(`--path ${JSON.stringify(p)} must be a path prefix starting with "/"`)
    const capability = await createCustomCapability(Vault.fromEnv(), loadRegistry(), {
      id: args.id,
      provider: flags.provider,
      credential: flags.credential,
      methods,
      pathPrefixes: flags.path,
      hosts: parseCapabilityHosts(flags.host ?? []),
    })
    this.log(`Capability created: ${capability.id} (${capability.allow.methods.join(', ')} ${capability.allow.pathPrefixes.join(', ')} on ${capability.allow.hosts.join(', ')})`)
    return capability
  }
}

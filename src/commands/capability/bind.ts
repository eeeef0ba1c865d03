import {Flags} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import {bindCapability} from '../../broker/admin'
import {bindingScope, bindingScopeFlags} from '../../cli/binding-flags'
import {checkName} from '../../cli/flags'
import {usageError} from '../../errors'
import type {Binding} from '../../vault/store/broker-records'
import {SECRET_REF} from '../../vault/store/credential-record'
import {Vault} from '../../vault/vault'
import {loadRegistry} from '../../plugins/runtime'

export default class CapabilityBind extends AivaultCommand {
  static summary = 'Bind a capability to a credential or a secret, for a scope and optionally one consumer.'

  static description = `Resolution order: --credential on the call; then the most specific binding (group > workspace > global, consumer-specific > generic); then the most specific scoped credential of the provider.`

  static examples = [
    '<%= config.bin %> capability bind --capability openai/chat-completions --credential openai:ws:team --workspace-id team',
    '<%= config.bin %> capability bind --capability openai/chat-completions --secret-ref vault:secret:<id> --consumer summarizer',
  ]

  static flags = {
    ...bindingScopeFlags,
    credential: Flags.string({description: 'The credential to use.', exclusive: ['secret-ref']}),
    'secret-ref': Flags.string({description: 'vault:secret:<id> to use with the provider credential resolution would pick.'}),
  }

  async run(): Promise<Binding> {
    const {flags} = await this.parse(CapabilityBind)
    if (!flags.credential && !flags['secret-ref']) throw usageError('a binding needs --credential or --secret-ref')
    if (flags['secret-ref'] && !SECRET_REF.test(flags['secret-ref'])) throw usageError('--secret-ref must be vault:secret:<id>')
    if (flags.credential !== undefined) checkName('credential', flags.credential, '--credential')
    const binding = await bindCapability(Vault.fromEnv(), loadRegistry(), {...bindingScope(flags), credential: flags.credential, secretRef: flags['secret-ref']})
    this.log(`Binding ${binding.id}: ${binding.capability} -> ${binding.credential ?? binding.secretRef}`)
    return binding
  }
}

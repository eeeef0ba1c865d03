import {AivaultCommand} from '../../base-command'
import {unbindCapability} from '../../broker/admin'
import {bindingScope, bindingScopeFlags} from '../../cli/binding-flags'
import {Vault} from '../../vault/vault'

export default class CapabilityUnbind extends AivaultCommand {
  static summary = 'Remove the binding of a capability for a scope and consumer.'

  static examples = ['<%= config.bin %> capability unbind --capability openai/chat-completions --workspace-id team']

  static flags = bindingScopeFlags

  async run(): Promise<{removed: string}> {
    const {flags} = await this.parse(CapabilityUnbind)
    const result = await unbindCapability(Vault.fromEnv(), bindingScope(flags))
    this.log(`Removed binding ${result.removed}`)
    return result
  }
}

import {Args} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import type {CapabilityDescription} from '../../broker/credential/capability-catalog'
import {describeCapability} from '../../broker/credential/capability-catalog'
import {renderCapabilityDescription} from '../../render/capabilities'
import {Vault} from '../../vault/vault'
import {loadRegistry} from '../../plugins/runtime'

export default class CapabilityDescribe extends AivaultCommand {
  static summary = 'Show what a capability allows, the secrets it needs and how to call it (works without a credential).'

  static hiddenAliases = ['capability:args', 'capability:shape', 'capability:inspect']

  static examples = ['<%= config.bin %> capability describe openai/chat-completions']

  static args = {id: Args.string({description: 'Capability id.', required: true})}

  async run(): Promise<CapabilityDescription> {
    const {args} = await this.parse(CapabilityDescribe)
    const description = describeCapability(Vault.fromEnv(), loadRegistry(), args.id)
    this.log(renderCapabilityDescription(description))
    return description
  }
}

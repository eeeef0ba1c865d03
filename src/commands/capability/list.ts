import {Flags} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import type {CapabilityListing} from '../../broker/credential/capability-catalog'
import {capabilityListOutcome} from '../../cli/fast/listing-commands'

export default class CapabilityList extends AivaultCommand {
  static summary = 'List capabilities: Ready (a credential exists) and Available (with the command that enables them).'

  static examples = ['<%= config.bin %> capability list', '<%= config.bin %> capability list --provider openai --json']

  static flags = {provider: Flags.string({description: 'Only this provider.'})}

  async run(): Promise<CapabilityListing> {
    const {flags} = await this.parse(CapabilityList)
    const {result, text} = capabilityListOutcome(flags.provider)
    this.log(text)
    return result
  }
}

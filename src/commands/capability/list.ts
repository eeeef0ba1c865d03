import {Flags} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import type {CapabilityListing} from '../../broker/credential/capability-catalog'
import {listCapabilities} from '../../broker/credential/capability-catalog'
import {renderCapabilityList} from '../../render/capabilities'
import {Vault} from '../../vault/vault'
import {loadRegistry} from '../../plugins/runtime'

export default class CapabilityList extends AivaultCommand {
  static summary = 'List capabilities: Ready (a credential exists) and Available (with the command that enables them).'

  static examples = ['<%= config.bin %> capability list', '<%= config.bin %> capability list --provider openai --json']

  static flags = {provider: Flags.string({description: 'Only this provider.'})}

  async run(): Promise<CapabilityListing> {
    const {flags} = await this.parse(CapabilityList)
    const listing = listCapabilities(Vault.fromEnv(), loadRegistry(), {provider: flags.provider})
    this.log(renderCapabilityList(listing))
    return listing
  }
}

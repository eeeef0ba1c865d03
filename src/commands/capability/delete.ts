import {Args} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import {deleteCustomCapability} from '../../broker/admin'
import {Vault} from '../../vault/vault'

export default class CapabilityDelete extends AivaultCommand {
  static summary = 'Delete a custom capability, with its policy and bindings (registry capabilities cannot be deleted).'

  static examples = ['<%= config.bin %> capability delete my-api/read']

  static args = {id: Args.string({description: 'Capability id.', required: true})}

  async run(): Promise<{deleted: string; removed: {bindings: string[]; policy: boolean}}> {
    const {args} = await this.parse(CapabilityDelete)
    const result = await deleteCustomCapability(Vault.fromEnv(), args.id)
    this.log([`Deleted capability ${result.deleted}`, ...result.removed.bindings.map((b) => `Removed binding ${b}`), ...(result.removed.policy ? ['Removed its policy'] : [])].join('\n'))
    return result
  }
}

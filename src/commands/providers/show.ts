import {Args} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import type {ProviderDetail} from '../../broker/credential/provider-catalog'
import {showProvider} from '../../broker/credential/provider-catalog'
import {renderProvider} from '../../render/providers'
import {Vault} from '../../vault/vault'
import {loadRegistry} from '../../plugins/runtime'

export default class ProvidersShow extends AivaultCommand {
  static summary = 'Show one provider: secrets, auth, hosts, how to enable it, and its capabilities.'

  static examples = ['<%= config.bin %> providers show stripe']

  static args = {provider: Args.string({description: 'Provider id.', required: true})}

  async run(): Promise<ProviderDetail> {
    const {args} = await this.parse(ProvidersShow)
    const p = showProvider(Vault.fromEnv(), loadRegistry(), args.provider)
    this.log(renderProvider(p))
    return p
  }
}

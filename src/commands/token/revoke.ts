import {Args} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import {revokeToken} from '../../server/proxy-tokens'
import {Vault} from '../../vault/vault'

export default class TokenRevoke extends AivaultCommand {
  static summary = 'Revoke a proxy token; it is refused (token_invalid) from then on.'

  static examples = ['<%= config.bin %> token revoke 3f9a1c2b7d4e', '<%= config.bin %> token revoke "$AIVAULT_TOKEN"']

  static args = {id: Args.string({description: 'Token id (from token list), or the avp_... token itself.', required: true})}

  async run(): Promise<{id: string; revoked: boolean}> {
    const {args} = await this.parse(TokenRevoke)
    const record = await revokeToken(Vault.fromEnv(), args.id)
    this.log(`Token ${record.id} revoked.`)
    return {id: record.id, revoked: true}
  }
}

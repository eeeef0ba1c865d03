import {AivaultCommand} from '../../base-command'
import {table} from '../../render/text'
import {listTokens} from '../../server/proxy-tokens'
import {Vault} from '../../vault/vault'

export default class TokenList extends AivaultCommand {
  static summary = 'List proxy tokens (ids and scopes; the tokens themselves are never stored).'

  static examples = ['<%= config.bin %> token list --json']

  async run(): Promise<{tokens: Array<{id: string; capabilities: string[]; expiresAt: string; revoked: boolean}>}> {
    await this.parse(TokenList)
    const vault = Vault.fromEnv()
    const tokens = vault.exists() ? listTokens(vault) : []
    const now = Date.now()
    this.log(
      tokens.length === 0
        ? 'No tokens.'
        : table(
            ['ID', 'CAPABILITIES', 'EXPIRES', 'STATE'],
            tokens.map((t) => [t.id, t.capabilities.join(','), t.expiresAt, t.revoked ? 'revoked' : Date.parse(t.expiresAt) <= now ? 'expired' : 'active']),
          ),
    )
    return {tokens: tokens.map((t) => ({id: t.id, capabilities: t.capabilities, expiresAt: t.expiresAt, revoked: t.revoked, credential: t.credential}))}
  }
}

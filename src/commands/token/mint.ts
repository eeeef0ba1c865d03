import {Flags} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import {findCapability} from '../../broker/credential/capabilities'
import {unservedCapabilities} from '../../broker/credential/capability-catalog'
import {parseDuration} from '../../cli/duration'
import {checkName, parseTenantTarget} from '../../cli/flags'
import {MAX_TOKEN_TTL_MS} from '../../cli/limits'
import {AivaultError} from '../../errors'
import {mintToken} from '../../server/proxy-tokens'
import {Vault} from '../../vault/vault'
import {loadRegistry} from '../../plugins/runtime'

export default class TokenMint extends AivaultCommand {
  static summary = 'Mint a short-lived proxy token (avp_...) for `aivault serve`, limited to some capabilities.'

  static description = 'Only a hash of the token is stored (under run/, never in git). It works for its capabilities until it expires or is revoked.'

  static examples = ['<%= config.bin %> token mint --capability openai/chat-completions --capability openai/models --ttl 1h']

  static flags = {
    capability: Flags.string({description: 'A capability the token may call (repeatable).', multiple: true, required: true}),
    credential: Flags.string({description: 'Only this credential.'}),
    ttl: Flags.string({description: 'Lifetime (30s, 15m, 8h, 2d; at most 30d).', default: '15m'}),
    'workspace-id': Flags.string({description: 'Invoke on behalf of this workspace.'}),
    'group-id': Flags.string({description: 'Invoke on behalf of this group.'}),
    consumer: Flags.string({description: 'Consumer name recorded with each call.'}),
  }

  async run(): Promise<{id: string; token: string; expiresAt: string; capabilities: string[]}> {
    const {flags} = await this.parse(TokenMint)
    const ttlMs = parseDuration(flags.ttl, MAX_TOKEN_TTL_MS)
    for (const id of flags.capability) checkName('capability', id, '--capability')
    if (flags.credential !== undefined) checkName('credential', flags.credential, '--credential')
    const {workspaceId, groupId} = parseTenantTarget(flags)
    if (flags.consumer !== undefined) checkName('consumer', flags.consumer, '--consumer')
    const vault = Vault.fromEnv()
    const registry = loadRegistry()
    for (const id of flags.capability) findCapability(vault, registry, id)
    // A token for a credential that does not exist could never be used: say so now.
    if (flags.credential !== undefined && !(vault.exists() && vault.credentials.find(flags.credential))) {
      throw new AivaultError('credential_not_found', `no credential ${flags.credential}`, {hint: 'see "aivault credential list"'})
    }
    const {token, record} = await mintToken(vault, {
      capabilities: flags.capability,
      credential: flags.credential ?? null,
      workspaceId: workspaceId ?? null,
      groupId: groupId ?? null,
      consumer: flags.consumer ?? null,
      ttlMs,
    })
    // The token is still minted: the credential may be added before it is used.
    for (const {id, setup} of unservedCapabilities(vault, registry, record.capabilities)) {
      this.note(`${id} has no credential yet, so calls with this token fail until one exists${setup.length > 0 ? `: ${setup.join('; ')}` : ''}`)
    }
    this.log(`${token}\nToken ${record.id} expires ${record.expiresAt}; it can call ${record.capabilities.join(', ')}.`)
    return {id: record.id, token, expiresAt: record.expiresAt, capabilities: record.capabilities}
  }
}

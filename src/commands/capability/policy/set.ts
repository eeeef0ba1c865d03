import {Flags} from '@oclif/core'

import {AivaultCommand} from '../../../base-command'
import {setPolicy} from '../../../broker/admin'
import {checkName, within} from '../../../cli/flags'
import {MAX_BODY_LIMIT_BYTES, MAX_RATE_LIMIT_PER_MINUTE} from '../../../cli/limits'
import {usageError} from '../../../errors'
import type {CapabilityPolicy} from '../../../vault/store/broker-records'
import {Vault} from '../../../vault/vault'
import {loadRegistry} from '../../../plugins/runtime'

export default class CapabilityPolicySet extends AivaultCommand {
  static summary = "Set a capability's policy: rate limit, request/response size, response field blocklist."

  static description = 'Works for registry capabilities too. Rate limits hold across processes (a sliding 60-second window). Pass 0 to clear a limit.'

  static examples = [
    '<%= config.bin %> capability policy set --capability openai/chat-completions --rate-limit-per-minute 30',
    '<%= config.bin %> capability policy set --capability github/users --response-block email',
  ]

  static flags = {
    capability: Flags.string({description: 'Capability id.', required: true}),
    'rate-limit-per-minute': Flags.integer({description: 'Calls per minute (0 clears).', ...within(0, MAX_RATE_LIMIT_PER_MINUTE)}),
    'max-request-body-bytes': Flags.integer({description: 'Largest request body (0 clears; at most 1 TiB).', ...within(0, MAX_BODY_LIMIT_BYTES)}),
    'max-response-body-bytes': Flags.integer({description: 'Largest response body (0 clears; at most 1 TiB).', ...within(0, MAX_BODY_LIMIT_BYTES)}),
    'response-block': Flags.string({description: 'Redact JSON fields of this name at any depth, and the literal in text (repeatable).', multiple: true}),
  }

  async run(): Promise<CapabilityPolicy> {
    const {flags} = await this.parse(CapabilityPolicySet)
    checkName('capability', flags.capability, '--capability')
    const limit = (v: number | undefined) => (v === undefined ? undefined : v === 0 ? null : v)
    const input = {
      rateLimitPerMinute: limit(flags['rate-limit-per-minute']),
      maxRequestBodyBytes: limit(flags['max-request-body-bytes']),
      maxResponseBodyBytes: limit(flags['max-response-body-bytes']),
      responseBlock: flags['response-block'],
    }
    if (Object.values(input).every((v) => v === undefined)) throw usageError('nothing to set', 'pass at least one policy flag')
    const policy = await setPolicy(Vault.fromEnv(), loadRegistry(), flags.capability, input)
    const parts = [
      `rate limit ${policy.rateLimitPerMinute ?? 'none'}/min`,
      `request ≤ ${policy.maxRequestBodyBytes ?? '∞'} bytes`,
      `response ≤ ${policy.maxResponseBodyBytes ?? '∞'} bytes`,
      `blocked fields: ${policy.responseBlock.join(', ') || 'none'}`,
    ]
    this.log(`Policy for ${policy.id}: ${parts.join('; ')}`)
    return policy
  }
}

import {Flags} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import {within} from '../../cli/flags'
import {MAX_AUDIT_LIMIT, MAX_EPOCH_MS} from '../../cli/limits'
import {usageError} from '../../errors'
import {renderAudit} from '../../render/audit'
import type {AuditEvent} from '../../vault/audit/audit'
import {Vault} from '../../vault/vault'

export default class Audit extends AivaultCommand {
  static summary = 'Show audit events, newest first (never secret values).'

  static examples = ['<%= config.bin %> audit --limit 20', '<%= config.bin %> audit --kind secret.create --json']

  static flags = {
    limit: Flags.integer({description: 'At most this many events.', default: 200, ...within(1, MAX_AUDIT_LIMIT)}),
    before: Flags.string({description: 'Only events before this ISO-8601 time.', exclusive: ['before-ts-ms']}),
    'before-ts-ms': Flags.integer({description: 'Only events before this time in epoch milliseconds.', ...within(0, MAX_EPOCH_MS)}),
    kind: Flags.string({description: 'Only events of this kind (secret.create, capability.invoke, ...).'}),
  }

  async run(): Promise<{events: AuditEvent[]}> {
    const {flags} = await this.parse(Audit)
    let beforeMs = flags['before-ts-ms']
    if (flags.before !== undefined) {
      beforeMs = Date.parse(flags.before)
      if (Number.isNaN(beforeMs)) throw usageError(`--before ${JSON.stringify(flags.before)} is not an ISO-8601 time`, 'e.g. --before 2026-01-31T12:00:00Z')
    }
    const vault = Vault.fromEnv()
    const events = vault.exists() ? vault.audit.read({limit: flags.limit, beforeMs, kind: flags.kind}) : []
    this.log(renderAudit(events))
    return {events}
  }
}

import {AivaultCommand} from '../../base-command'
import {AivaultError} from '../../errors'
import {plural} from '../../render/text'
import type {AuditBreak} from '../../vault/audit/audit'
import {Vault} from '../../vault/vault'

export default class AuditVerify extends AivaultCommand {
  static summary = "Check the audit log's hash chain; report the first edited, removed or reordered line."

  static examples = ['<%= config.bin %> audit verify']

  async run(): Promise<{ok: boolean; events: number; files: number; break: AuditBreak | null}> {
    await this.parse(AuditVerify)
    const vault = Vault.fromEnv()
    const result = vault.exists() ? vault.audit.verify() : {events: 0, files: 0}
    if (result.break) {
      const {file, line, reason} = result.break
      throw new AivaultError('vault_tampered', `audit chain broken at ${file} line ${line}: ${reason}`, {
        hint: 'the audit log was edited; keep a copy for investigation',
      })
    }
    this.log(`Audit chain intact: ${plural(result.events, 'event')} in ${plural(result.files, 'file')}.`)
    return {ok: true, events: result.events, files: result.files, break: null}
  }
}

import {Flags} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import {usageError} from '../../errors'
import {progressReporter} from '../../render/progress'
import {renderRecipientRemoved} from '../../render/recipients'
import {RECIPIENT_NAME} from '../../vault/keys/key-providers/recipients'
import type {RemoveResult} from '../../vault/recipients'
import {removeRecipient} from '../../vault/recipients'
import {Vault} from '../../vault/vault'

export default class RecipientsRemove extends AivaultCommand {
  static summary = 'Remove a member: rotate the master key, re-wrap every data key, and list what to rotate upstream.'

  static description = `Crash-safe like rotate-master: killed at any moment, the vault still opens, and running the command again finishes the job. The removed member can open nothing written afterwards, but keeps whatever they copied before (and old git history): rotate the listed credentials where they were issued.`

  static examples = ['<%= config.bin %> recipients remove --name carol']

  static flags = {
    name: Flags.string({description: 'The member to remove (see "aivault recipients list").', required: true}),
  }

  async run(): Promise<RemoveResult> {
    const {flags} = await this.parse(RecipientsRemove)
    if (!RECIPIENT_NAME.test(flags.name)) throw usageError(`--name ${JSON.stringify(flags.name)} is not a valid recipient name`)
    const progress = progressReporter('Re-wrapping data keys')
    const result = await removeRecipient(Vault.fromEnv(), flags.name, progress.update)
    progress.done()
    this.log(renderRecipientRemoved(result))
    return result
  }
}

import {Flags} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import {usageError} from '../../errors'
import {progressReporter} from '../../render/progress'
import {renderSwitch} from '../../render/recipients'
import {RECIPIENT_NAME} from '../../vault/keys/key-providers/recipients'
import type {SwitchResult} from '../../vault/recipients'
import {switchToRecipients} from '../../vault/recipients'
import {Vault} from '../../vault/vault'

export default class RecipientsInit extends AivaultCommand {
  static summary = 'Switch this file vault to the recipients key provider, with you as the first recipient.'

  static description = `Your identity (AIVAULT_IDENTITY, else ~/.aivault/identity.key) is created when missing. The master key is rotated on the way, so a key file handed around before opens nothing written afterwards. Crash-safe like rotate-master: running it again finishes an interrupted switch. New vaults: "aivault init --provider recipients".`

  static examples = ['<%= config.bin %> recipients init', '<%= config.bin %> recipients init --name alice']

  static flags = {
    name: Flags.string({description: 'Your name as a recipient (default: the OS user name).'}),
  }

  async run(): Promise<SwitchResult> {
    const {flags} = await this.parse(RecipientsInit)
    if (flags.name !== undefined && !RECIPIENT_NAME.test(flags.name)) throw usageError(`--name ${JSON.stringify(flags.name)} is not a valid recipient name`)
    const progress = progressReporter('Re-wrapping data keys')
    const result = await switchToRecipients(Vault.fromEnv(), {name: flags.name, onProgress: progress.update})
    progress.done()
    this.log(renderSwitch(result))
    return result
  }
}

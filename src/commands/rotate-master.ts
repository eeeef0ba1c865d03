import {Flags} from '@oclif/core'

import {AivaultCommand} from '../base-command'
import {readInputFile} from '../cli/flags'
import {usageError} from '../errors'
import {progressReporter} from '../render/progress'
import {renderRotateMaster} from '../render/vault'
import {decodeKey} from '../vault/keys/key-providers/file'
import type {RotateMasterResult} from '../vault/keys/rotate-master'
import {rotateMaster} from '../vault/keys/rotate-master'
import {Vault} from '../vault/vault'

export default class RotateMaster extends AivaultCommand {
  static summary = 'Replace the master key and re-wrap every data key; safe to interrupt and re-run.'

  static description = `file vaults generate and store the new key themselves. env vaults need --new-key (see "aivault keygen"); export it as the vault's variable afterwards. recipients vaults seal the new key to every recipient. Killed at any moment, the vault still opens and a later run finishes the job.`

  static examples = ['<%= config.bin %> rotate-master', '<%= config.bin %> rotate-master --new-key "$(<%= config.bin %> keygen)"']

  static flags = {
    'new-key': Flags.string({description: 'The new base64 key (visible in the process list: prefer --new-key-file).', exclusive: ['new-key-file', 'new-passphrase']}),
    'new-key-file': Flags.string({description: 'Read the new base64 key from this file.', exclusive: ['new-passphrase']}),
    'new-passphrase': Flags.string({description: 'New passphrase (passphrase vaults, through aivaultd).'}),
  }

  async run(): Promise<RotateMasterResult> {
    const {flags} = await this.parse(RotateMaster)
    let newKey: Uint8Array | undefined
    try {
      if (flags['new-key'] !== undefined) newKey = decodeKey(flags['new-key'], '--new-key')
      if (flags['new-key-file'] !== undefined) newKey = decodeKey(readInputFile(flags['new-key-file'], '--new-key-file').toString('utf8'), '--new-key-file')
    } catch (error) {
      throw usageError((error as Error).message, 'generate a key with "aivault keygen"')
    }
    if (flags['new-passphrase'] !== undefined) {
      throw usageError('--new-passphrase needs the vault unlocked in aivaultd, which this version does not ship yet')
    }
    const progress = progressReporter('Re-wrapping data keys')
    const result = await rotateMaster(Vault.fromEnv(), {newKey, onProgress: progress.update})
    progress.done()
    this.log(renderRotateMaster(result))
    return result
  }
}

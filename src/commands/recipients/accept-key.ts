import {Flags} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import {usageError} from '../../errors'
import {renderAcceptKey} from '../../render/recipients'
import {KEK_ID} from '../../vault/keys/kek-chain'
import type {AcceptKeyResult} from '../../vault/recipients'
import {acceptKey} from '../../vault/recipients'
import {Vault} from '../../vault/vault'

export default class RecipientsAcceptKey extends AivaultCommand {
  static summary = "Trust vault.yaml's master key after reviewing how it changed (when aivault could not follow the change itself)."

  static description = `Each machine remembers the master key it last opened (under run/, never committed) and follows a new one only when vault.yaml proves it was made by a holder of that key. A clone more than one key change behind, or a vault.yaml replaced by someone without the key, is refused with vault_tampered.

Review "git log -p vault.yaml" first: every key change should be a "recipients remove", "rotate-master" or "recipients init" commit by a member. --kek-id must be the kekId vault.yaml names now (the refusal prints it).`

  static examples = ['git log -p vault.yaml && <%= config.bin %> recipients accept-key --kek-id 0123456789abcdef']

  static flags = {
    'kek-id': Flags.string({description: 'The kekId vault.yaml names, as the refusal printed it.', required: true}),
  }

  async run(): Promise<AcceptKeyResult> {
    const {flags} = await this.parse(RecipientsAcceptKey)
    const kekId = flags['kek-id'].trim()
    if (!KEK_ID.test(kekId)) throw usageError('--kek-id is not a key id (16 hex digits)', 'copy the kekId the refusal printed, or the one in vault.yaml')
    const result = await acceptKey(Vault.fromEnv(), kekId)
    this.log(renderAcceptKey(result))
    return result
  }
}

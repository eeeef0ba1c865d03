import {Flags} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import {usageError} from '../../errors'
import {renderRecipientAdded} from '../../render/recipients'
import {decodePublicKey} from '../../vault/keys/identity'
import {RECIPIENT_NAME} from '../../vault/keys/key-providers/recipients'
import type {RecipientChange} from '../../vault/recipients'
import {addRecipient} from '../../vault/recipients'
import {Vault} from '../../vault/vault'

export default class RecipientsAdd extends AivaultCommand {
  static summary = 'Add a member: seal the master key to their public key (fast, whatever the number of secrets).'

  static description = `Run by an existing recipient (your identity must open the vault). The new member prints their key with "aivault identity show"; commit and push vault.yaml afterwards, and they can open the vault after pulling.`

  static examples = ['<%= config.bin %> recipients add --name bob --public-key "$(cat bob.pub)"']

  static flags = {
    name: Flags.string({description: 'A name for the member (letters, digits, . _ @ -).', required: true}),
    'public-key': Flags.string({description: 'Their public key, standard base64 (44 characters), from "aivault identity show".', required: true}),
  }

  async run(): Promise<RecipientChange> {
    const {flags} = await this.parse(RecipientsAdd)
    if (!RECIPIENT_NAME.test(flags.name)) throw usageError(`--name ${JSON.stringify(flags.name)} is not a valid recipient name`, 'use letters, digits, ".", "_", "@" and "-" (at most 64)')
    const publicKey = flags['public-key'].trim()
    if (!decodePublicKey(publicKey)) throw usageError('--public-key is not a standard base64 32-byte key (44 characters)', 'copy the key "aivault identity show" prints')
    const result = await addRecipient(Vault.fromEnv(), {name: flags.name, publicKey})
    this.log(renderRecipientAdded(result))
    return result
  }
}

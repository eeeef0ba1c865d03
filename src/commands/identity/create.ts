import {AivaultCommand} from '../../base-command'
import {renderIdentity} from '../../render/recipients'
import type {IdentityInfo} from '../../vault/keys/identity'
import {createIdentity, identityPath} from '../../vault/keys/identity'

export default class IdentityCreate extends AivaultCommand {
  static summary = 'Create your identity: an X25519 key pair for recipients vaults (never overwrites one).'

  static description = `Written to AIVAULT_IDENTITY, else ~/.aivault/identity.key (0600, in a 0700 folder), outside every vault.
Share only the public key it prints; a recipient of a vault adds you with "aivault recipients add".`

  static examples = ['<%= config.bin %> identity create', 'AIVAULT_IDENTITY=~/work.identity <%= config.bin %> identity create --json']

  async run(): Promise<{publicKey: string; fingerprint: string; file: string}> {
    await this.parse(IdentityCreate)
    const identity: IdentityInfo = await createIdentity(identityPath())
    this.log(renderIdentity(identity, true))
    return {publicKey: identity.publicKey, fingerprint: identity.fingerprint, file: identity.file}
  }
}

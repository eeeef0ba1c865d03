import {AivaultCommand} from '../../base-command'
import {AivaultError} from '../../errors'
import {renderIdentity} from '../../render/recipients'
import {identityPath, loadIdentity, publicKeyFingerprint} from '../../vault/keys/identity'

export default class IdentityShow extends AivaultCommand {
  static summary = 'Print your public key (standard base64) and its fingerprint; never the secret key.'

  static examples = ['<%= config.bin %> identity show', '<%= config.bin %> identity show --json']

  async run(): Promise<{publicKey: string; fingerprint: string; file: string}> {
    await this.parse(IdentityShow)
    const file = identityPath()
    // Loaded in full, so a public key that does not match its secret key is never handed out.
    const pair = await loadIdentity(file)
    if (!pair) throw new AivaultError('not_found', `no identity at ${file}`, {hint: 'create one with "aivault identity create"'})
    pair.secretKey.fill(0)
    const publicKey = Buffer.from(pair.publicKey).toString('base64')
    const identity = {file, publicKey, fingerprint: publicKeyFingerprint(publicKey)}
    this.log(renderIdentity(identity, false))
    return {publicKey: identity.publicKey, fingerprint: identity.fingerprint, file: identity.file}
  }
}

import {AivaultCommand} from '../base-command'
import {encodeKey} from '../vault/keys/key-providers/file'
import {randomKey} from '../vault/keys/seal'

export default class Keygen extends AivaultCommand {
  static summary = 'Print a fresh random base64 master key (for env vaults and rotate-master --new-key).'

  static examples = ['export AIVAULT_KEY=$(<%= config.bin %> keygen)']

  async run(): Promise<{key: string}> {
    await this.parse(Keygen)
    const key = encodeKey(await randomKey())
    this.log(key)
    return {key}
  }
}

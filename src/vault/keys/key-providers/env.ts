import {AivaultError} from '../../../errors'
import {decodeKey} from './file'
import type {KeyProvider} from './types'

/**
 * The KEK comes from an environment variable (default AIVAULT_KEY). aivault cannot store a
 * new key there, so rotate-master takes the new key from the operator (`--new-key`) and an
 * interrupted rotation is finished by running the same command again.
 */
export class EnvKeyProvider implements KeyProvider {
  readonly type = 'env' as const

  constructor(
    readonly location: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  async loadKek(): Promise<Uint8Array> {
    const value = this.env[this.location]
    if (!value) {
      throw new AivaultError('vault_locked', `environment variable ${this.location} is not set`, {
        hint: `export ${this.location}=<base64 key> (the key this vault was created with)`,
      })
    }
    return decodeKey(value, `environment variable ${this.location}`)
  }

  async loadPendingKek(): Promise<undefined> {
    return undefined
  }

  async stagePendingKek(): Promise<void> {}

  async commitPendingKek(): Promise<void> {}
}

import {Flags} from '@oclif/core'

import {AivaultCommand} from '../base-command'
import {daemonClient} from '../cli/daemon-access'
import {parseDuration} from '../cli/duration'
import {readInputFile} from '../cli/flags'
import {MAX_UNLOCK_TTL_MS} from '../cli/limits'
import {readSecretLine} from '../cli/prompt'

export default class Unlock extends AivaultCommand {
  static summary = 'Unlock a passphrase vault in aivaultd; later CLI processes work until "aivault lock" or the TTL.'

  static description = 'The key is derived (Argon2id) and held in the daemon only; it never comes back to a client or touches disk.'

  static examples = ['<%= config.bin %> unlock', '<%= config.bin %> unlock --passphrase-file ~/.vault-pass --ttl 1h']

  static flags = {
    passphrase: Flags.string({description: 'The passphrase (visible in the process list: prefer the prompt or --passphrase-file).', exclusive: ['passphrase-file']}),
    'passphrase-file': Flags.string({description: 'Read the passphrase from this file.'}),
    ttl: Flags.string({description: 'How long the vault stays unlocked (30s, 15m, 8h, 2d; at most 30d).', default: '8h'}),
  }

  async run(): Promise<{locked: boolean; unlockedUntil: string}> {
    const {flags} = await this.parse(Unlock)
    const ttlMs = parseDuration(flags.ttl, MAX_UNLOCK_TTL_MS)
    const passphrase = flags['passphrase-file']
      ? readInputFile(flags['passphrase-file'], '--passphrase-file').toString('utf8').replace(/\r?\n$/, '')
      : (flags.passphrase ?? (await readSecretLine('Passphrase: ')))
    const client = (await daemonClient({start: true}))!
    try {
      const result = await client.request<{locked: boolean; unlockedUntil: string}>('unlock', {passphrase, ttlMs})
      this.log(`Vault unlocked until ${result.unlockedUntil}`)
      return result
    } finally {
      client.close()
    }
  }
}

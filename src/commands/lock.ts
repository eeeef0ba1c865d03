import {AivaultCommand} from '../base-command'
import {daemonClient} from '../cli/daemon-access'

export default class Lock extends AivaultCommand {
  static summary = 'Lock the vault: aivaultd forgets the unlocked key.'

  static examples = ['<%= config.bin %> lock']

  async run(): Promise<{locked: boolean; wasUnlocked: boolean}> {
    await this.parse(Lock)
    const client = await daemonClient({start: false})
    if (!client) {
      this.log('Vault locked (no aivaultd was running).')
      return {locked: true, wasUnlocked: false}
    }
    try {
      const result = await client.request<{locked: boolean; wasUnlocked: boolean}>('lock')
      this.log(result.wasUnlocked ? 'Vault locked.' : 'Vault locked (it was not unlocked).')
      return result
    } finally {
      client.close()
    }
  }
}

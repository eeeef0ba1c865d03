import {AivaultCommand} from '../../base-command'
import {socketFromEnv, stopDaemon} from '../../cli/daemon-access'

export default class DaemonStop extends AivaultCommand {
  static summary = 'Stop aivaultd (an unlocked vault is locked again).'

  static examples = ['<%= config.bin %> daemon stop']

  async run(): Promise<{stopped: boolean; socket: string}> {
    await this.parse(DaemonStop)
    const socket = socketFromEnv()
    const stopped = await stopDaemon(socket)
    this.log(stopped ? 'aivaultd stopped.' : 'aivaultd was not running.')
    return {stopped, socket}
  }
}

import {AivaultCommand} from '../../base-command'
import {socketFromEnv, stillRunningError, stopDaemon} from '../../cli/daemon-access'

export default class DaemonStop extends AivaultCommand {
  static summary = 'Stop aivaultd (an unlocked vault is locked again).'

  static examples = ['<%= config.bin %> daemon stop']

  async run(): Promise<{stopped: boolean; socket: string}> {
    await this.parse(DaemonStop)
    const socket = socketFromEnv()
    const outcome = await stopDaemon(socket)
    if (outcome === 'still_running') throw stillRunningError(socket)
    const stopped = outcome === 'stopped'
    this.log(stopped ? 'aivaultd stopped.' : 'aivaultd was not running.')
    return {stopped, socket}
  }
}

import {AivaultCommand} from '../../base-command'
import {daemonClient, socketFromEnv, stillRunningError, stopDaemon} from '../../cli/daemon-access'

export default class DaemonRestart extends AivaultCommand {
  static summary = 'Restart aivaultd (an unlocked vault must be unlocked again).'

  static examples = ['<%= config.bin %> daemon restart']

  async run(): Promise<{running: boolean; socket: string; pid: number}> {
    await this.parse(DaemonRestart)
    const socket = socketFromEnv()
    if ((await stopDaemon(socket)) === 'still_running') throw stillRunningError(socket)
    const client = (await daemonClient({start: true}))!
    try {
      const health = await client.request<{pid: number}>('health')
      this.log(`aivaultd restarted (pid ${health.pid}, ${socket})`)
      return {running: true, socket, pid: health.pid}
    } finally {
      client.close()
    }
  }
}

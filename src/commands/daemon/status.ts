import {AivaultCommand} from '../../base-command'
import {daemonClient, socketFromEnv} from '../../cli/daemon-access'

export default class DaemonStatus extends AivaultCommand {
  static summary = 'Is aivaultd running, on which socket, with which pid.'

  static examples = ['<%= config.bin %> daemon status --json']

  async run(): Promise<{running: boolean; socket: string; pid: number | null; locked?: boolean; unlockedUntil?: string | null}> {
    await this.parse(DaemonStatus)
    const socket = socketFromEnv()
    const client = await daemonClient({start: false})
    if (!client) {
      this.log(`aivaultd is not running (${socket})`)
      return {running: false, socket, pid: null}
    }
    try {
      const status = await client.request<{pid: number; locked: boolean; unlockedUntil: string | null}>('status')
      this.log(`aivaultd is running (pid ${status.pid}, ${socket})${status.unlockedUntil ? `; vault unlocked until ${status.unlockedUntil}` : ''}`)
      return {running: true, socket, pid: status.pid, locked: status.locked, unlockedUntil: status.unlockedUntil}
    } finally {
      client.close()
    }
  }
}

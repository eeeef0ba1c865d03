import {DaemonClient, startDaemon} from '../daemon/client'
import {daemonSocketPath} from '../vault/status'
import {Vault} from '../vault/vault'

export function socketFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return daemonSocketPath(Vault.fromEnv(env))
}

/** The running daemon, started when none is (unlock needs one to hold the key). */
export async function daemonClient(options: {start: boolean}): Promise<DaemonClient | undefined> {
  const socket = socketFromEnv()
  const client = await DaemonClient.connect(socket)
  if (client || !options.start) return client
  return startDaemon(socket)
}

/** Stop the daemon on `socket` and wait until its socket stops answering. */
export async function stopDaemon(socket: string): Promise<boolean> {
  const client = await DaemonClient.connect(socket)
  if (!client) return false
  try {
    await client.request('shutdown')
  } catch {
    /* it may close the connection before replying */
  }
  client.close()
  for (let i = 0; i < 50; i++) {
    const probe = await DaemonClient.connect(socket, 200)
    if (!probe) return true
    probe.close()
    await new Promise((r) => setTimeout(r, 50))
  }
  return true
}

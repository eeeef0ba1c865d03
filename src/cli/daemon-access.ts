import {DaemonClient, startDaemon} from '../daemon/client'
import {daemonSocketPath} from '../daemon/socket-path'
import {AivaultError} from '../errors'

export function socketFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return daemonSocketPath(env)
}

/** The running daemon, started when none is (unlock needs one to hold the key). */
export async function daemonClient(options: {start: boolean}): Promise<DaemonClient | undefined> {
  const socket = socketFromEnv()
  const client = await DaemonClient.connect(socket)
  if (client || !options.start) return client
  return startDaemon(socket)
}

/** What `stopDaemon` saw: nothing answering, a daemon that went away, or one still answering. */
export type StopOutcome = 'not_running' | 'stopped' | 'still_running'

/**
 * Ask the daemon on `socket` to shut down and wait (up to `attempts` probes, 50 ms apart)
 * until its socket stops answering; a daemon that still answers is reported, never called stopped.
 */
export async function stopDaemon(socket: string, attempts = 50): Promise<StopOutcome> {
  const client = await DaemonClient.connect(socket)
  if (!client) return 'not_running'
  let pid: number | undefined
  try {
    const reply = await client.request<{pid?: unknown}>('shutdown')
    if (Number.isSafeInteger(reply?.pid) && (reply.pid as number) > 0) pid = reply.pid as number
  } catch {
    /* it may close the connection before replying */
  }
  client.close()
  for (let i = 0; i < attempts; i++) {
    const probe = await DaemonClient.connect(socket, 200)
    // Stopped once the socket refuses and the process it named has exited (it flushes the audit log first).
    if (!probe && (pid === undefined || !processAlive(pid))) return 'stopped'
    probe?.close()
    await new Promise((r) => setTimeout(r, 50))
  }
  return 'still_running'
}

/** The error for a daemon that did not stop when asked (daemon stop, daemon restart). */
export function stillRunningError(socket: string): AivaultError {
  return new AivaultError('vault_unavailable', `aivaultd on ${socket} did not stop when asked`, {
    hint: 'find its process (it was started with this socket) and end it, then run the command again',
  })
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

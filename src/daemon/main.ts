import {resolve} from 'node:path'

import {AivaultError} from '../errors'
import {Daemon} from './server'
import {daemonSocketPath} from './socket-path'

const USAGE = 'usage: aivaultd [--socket PATH] [--shared] [--once]'

/** `aivaultd [--socket P] [--shared] [--once]` (SPEC §10). */
export async function main(argv: string[]): Promise<void> {
  let socket: string | undefined
  let shared = false
  let once = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--socket') socket = argv[++i]
    else if (arg === '--shared') shared = true
    else if (arg === '--once') once = true
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(USAGE + '\n')
      return
    } else {
      process.stderr.write(`Error: unknown argument ${arg}\n${USAGE}\n`)
      process.exit(2)
    }
  }
  if (socket === undefined && argv.includes('--socket')) {
    process.stderr.write(`Error: --socket needs a path\n${USAGE}\n`)
    process.exit(2)
  }
  const path = socket === undefined ? daemonSocketPath() : resolve(socket)
  const idle = Number(process.env.AIVAULTD_IDLE_EXIT_MS ?? 30 * 60_000)
  const daemon = new Daemon({socket: path, shared, once, idleExitMs: idle})
  try {
    await daemon.start()
  } catch (error) {
    const e = error instanceof AivaultError ? error : new AivaultError('vault_unavailable', (error as Error).message)
    process.stderr.write(`Error: ${e.message}\n${e.hint ? `Hint: ${e.hint}\n` : ''}`)
    process.exit(1)
  }
  const stop = () => void daemon.stop().then(() => process.exit(0))
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

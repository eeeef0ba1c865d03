import * as os from 'node:os'
import * as path from 'node:path'

/**
 * Where aivaultd listens by default (SPEC §10, §15): AIVAULTD_SOCKET, else `run/aivaultd.sock`
 * in the vault named by AIVAULT_DIR, else `~/.aivault/run/aivaultd.sock`. The one definition
 * for the daemon, the CLI and the thin invoke client: it loads no package, so the fast path
 * can use it.
 */
export function daemonSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AIVAULTD_SOCKET) return path.resolve(env.AIVAULTD_SOCKET)
  if (env.AIVAULT_DIR) return path.join(path.resolve(env.AIVAULT_DIR), 'run', 'aivaultd.sock')
  return path.join(os.homedir(), '.aivault', 'run', 'aivaultd.sock')
}

import * as os from 'node:os'
import * as path from 'node:path'

/**
 * Where installed plugins live: oclif's data directory for `aivault`, computed the way
 * @oclif/core does (AIVAULT_DATA_DIR, else $XDG_DATA_HOME/aivault, else ~/.local/share/aivault)
 * so aivaultd and serve, which do not load oclif, find the same plugins as the CLI.
 */
export function pluginDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AIVAULT_DATA_DIR) return path.resolve(env.AIVAULT_DATA_DIR)
  const base = env.XDG_DATA_HOME || path.join(env.HOME || os.homedir(), '.local', 'share')
  return path.join(base, 'aivault')
}

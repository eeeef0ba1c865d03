/** What the fast paths (fast-path.ts, mcp-fast.ts) share: when to step aside, and how to warn. */
import {installedPlugins} from '../../plugins/installed'

/**
 * Whether the full CLI must run the command: AIVAULT_FAST_PATH=0, DEBUG (oclif's debug output),
 * or a plugin with oclif lifecycle hooks (init, prerun, …), which only oclif runs.
 */
export function needsFullCli(env: NodeJS.ProcessEnv): boolean {
  if (env.AIVAULT_FAST_PATH === '0' || env.DEBUG) return true
  try {
    return installedPlugins(env).some((p) => p.oclifHooks)
  } catch {
    // An unreadable plugin list: the full CLI says so, as on every command.
    return true
  }
}

/** `Warning:` lines on stderr, as AivaultCommand.note writes them. */
export function writeWarnings(lines: readonly string[]): void {
  for (const line of lines) process.stderr.write(`Warning: ${line}\n`)
}

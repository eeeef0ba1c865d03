/**
 * `aivault mcp` without oclif (bin/run.js, dist/mcp.js): an agent host starts the server for
 * every session and waits for its answer to initialize, so start-up is the first thing a user
 * meets. The command line is read by the flag table the oclif command is built from
 * (mcp-flags.ts); anything the fast path would not accept as is goes to the full CLI.
 */
import {isAivaultError} from '../../errors'
import {startupWarnings} from '../../plugins/runtime'
import {errorLines} from '../../render/colour'
import {serveMcpOverStdio} from '../invoke/mcp-stdio'
import {needsFullCli, writeWarnings} from './fast-common'
import type {McpServerOptions} from '../../mcp/mcp-server'
import {mcpServerOptions, parseMcpArgs} from './mcp-flags'

/** Serve MCP on stdio for this command line, or resolve false (having printed nothing) for the full CLI. */
export async function runMcpFast(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (argv[0] !== 'mcp' || needsFullCli(env)) return false
  const flags = parseMcpArgs(argv.slice(1))
  if (!flags) return false
  let options: McpServerOptions
  try {
    options = mcpServerOptions(flags)
  } catch {
    return false
  }
  writeWarnings(startupWarnings(env))
  try {
    await serveMcpOverStdio(options, env)
  } catch (error) {
    const failure = isAivaultError(error) ? error : undefined
    process.stderr.write(errorLines(failure ? failure.message : String((error as Error).message ?? error), failure?.hint))
    process.exitCode = failure?.exitCode ?? 1
  }
  return true
}

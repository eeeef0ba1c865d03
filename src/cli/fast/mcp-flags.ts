/**
 * `aivault mcp`'s flags in one table: the oclif command builds its flags from it, and the fast
 * path (mcp-fast.ts) reads the command line by it with node:util's parseArgs, without oclif.
 * Both turn the values into server options with mcpServerOptions, so both accept and refuse
 * the same lines (the fast path hands anything it would refuse to the full CLI, which says why).
 */
import {parseArgs} from 'node:util'

import {parsePatterns} from '../../mcp/exposure'
import type {McpServerOptions} from '../../mcp/mcp-server'
import {DEFAULT_MAX_BODY_BYTES} from '../../mcp/mcp-server'
import {contextFromFlags} from '../invoke/invocation-context'

export const MAX_BODY_RANGE = [1024, 64 << 20] as const

export const MCP_FLAG_TABLE = {
  capability: {kind: 'string', multiple: true, description: 'Expose only capabilities matching this id or pattern ("*" matches any run of characters); repeatable. Default: every ready capability.'},
  'tool-per-capability': {kind: 'boolean', description: 'Also offer one tool per ready capability, named after it.'},
  'workspace-id': {kind: 'string', description: 'Call on behalf of this workspace.'},
  'group-id': {kind: 'string', description: 'Call on behalf of this group (with --workspace-id).'},
  consumer: {kind: 'string', description: "Consumer name for bindings and audit (default: the MCP client's name)."},
  'max-body-bytes': {kind: 'integer', description: `Cut response bodies longer than this in tool results (default ${DEFAULT_MAX_BODY_BYTES}).`},
} as const

export interface McpFlagValues {
  capability?: string[]
  'tool-per-capability'?: boolean
  'workspace-id'?: string
  'group-id'?: string
  consumer?: string
  'max-body-bytes'?: number
}

/** The server's options from the flags' values; a usage error (exit 2) for a bad one. */
export function mcpServerOptions(flags: McpFlagValues): McpServerOptions {
  const exposure = parsePatterns(flags.capability)
  // (`mcp` has no --client-ip: its caller is the host that started it.)
  const {clientIp: _clientIp, ...context} = contextFromFlags(flags)
  return {exposure, toolPerCapability: flags['tool-per-capability'] === true, maxBodyBytes: flags['max-body-bytes'] ?? DEFAULT_MAX_BODY_BYTES, context}
}

/**
 * `mcp`'s command line read without oclif, or undefined for the full CLI to read it (an
 * unknown flag, a missing value, an integer out of range or not written in digits).
 */
export function parseMcpArgs(argv: readonly string[]): McpFlagValues | undefined {
  const options: Record<string, {type: 'string' | 'boolean'; multiple?: boolean}> = {}
  for (const [name, spec] of Object.entries(MCP_FLAG_TABLE)) options[name] = {type: spec.kind === 'boolean' ? 'boolean' : 'string', ...('multiple' in spec ? {multiple: true} : {})}
  let values: Record<string, string | boolean | string[] | undefined>
  try {
    values = parseArgs({args: [...argv], options, strict: true, allowPositionals: false}).values as typeof values
  } catch {
    return undefined
  }
  for (const [name, spec] of Object.entries(MCP_FLAG_TABLE)) {
    const value = values[name]
    // A value that starts with "-" is a flag oclif would report as missing its value.
    if (typeof value === 'string' && value.startsWith('-')) return undefined
    if (Array.isArray(value) && value.some((v) => v.startsWith('-'))) return undefined
    if (!('multiple' in spec) && spec.kind !== 'boolean' && argv.filter((a) => a === `--${name}` || a.startsWith(`--${name}=`)).length > 1) return undefined
  }
  const out = {...values} as McpFlagValues
  const max = values['max-body-bytes']
  if (max !== undefined) {
    if (typeof max !== 'string' || !/^\d+$/.test(max) || Number(max) < MAX_BODY_RANGE[0] || Number(max) > MAX_BODY_RANGE[1]) return undefined
    out['max-body-bytes'] = Number(max)
  }
  return out
}

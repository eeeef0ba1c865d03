import {isIP} from 'node:net'

import type {InvocationContext} from '../../broker/credential/resolve-credential'
import {usageError} from '../../errors'
import {checkName} from '../../vault/names'

/** The flags that say on whose behalf a call is made (`invoke` and its kin, `mcp`). */
export interface ContextFlagValues {
  'workspace-id'?: string
  'group-id'?: string
  consumer?: string
  'client-ip'?: string
}

/**
 * The invocation context from the command line, each value checked by its rule (usage errors,
 * exit 2). Loads no oclif: `mcp`'s fast path (cli/fast/mcp-flags.ts) uses it too.
 */
export function contextFromFlags(flags: ContextFlagValues): InvocationContext {
  if (flags['workspace-id'] !== undefined) checkName('workspace', flags['workspace-id'], '--workspace-id')
  if (flags['group-id'] !== undefined) checkName('group', flags['group-id'], '--group-id')
  if (flags.consumer !== undefined) checkName('consumer', flags.consumer, '--consumer')
  if (flags['client-ip'] !== undefined && isIP(flags['client-ip']) === 0) throw usageError(`--client-ip ${JSON.stringify(flags['client-ip'].slice(0, 64))} is not an IP address`)
  if (flags['group-id'] && !flags['workspace-id']) throw usageError('--group-id needs --workspace-id')
  return {workspaceId: flags['workspace-id'], groupId: flags['group-id'], consumer: flags.consumer, clientIp: flags['client-ip']}
}

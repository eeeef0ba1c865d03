import {Flags} from '@oclif/core'

import {usageError} from '../errors'

export const bindingScopeFlags = {
  capability: Flags.string({description: 'Capability id.', required: true}),
  'workspace-id': Flags.string({description: 'Only for this workspace.'}),
  'group-id': Flags.string({description: 'Only for this group (with --workspace-id).'}),
  consumer: Flags.string({description: 'Only for this consumer (agent or skill name).'}),
}

export function bindingScope(flags: {capability: string; 'workspace-id'?: string; 'group-id'?: string; consumer?: string}) {
  if (flags['group-id'] && !flags['workspace-id']) throw usageError('--group-id needs --workspace-id')
  return {capability: flags.capability, workspaceId: flags['workspace-id'], groupId: flags['group-id'], consumer: flags.consumer}
}

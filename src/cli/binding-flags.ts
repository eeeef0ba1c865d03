import {Flags} from '@oclif/core'

import {usageError} from '../errors'
import {bindingId} from '../vault/store/broker-records'
import {fitsFileName} from '../vault/names'
import {checkName} from './flags'

export const bindingScopeFlags = {
  capability: Flags.string({description: 'Capability id.', required: true}),
  'workspace-id': Flags.string({description: 'Only for this workspace.'}),
  'group-id': Flags.string({description: 'Only for this group (with --workspace-id).'}),
  consumer: Flags.string({description: 'Only for this consumer (agent or skill name).'}),
}

export function bindingScope(flags: {capability: string; 'workspace-id'?: string; 'group-id'?: string; consumer?: string}) {
  checkName('capability', flags.capability, '--capability')
  if (flags['workspace-id'] !== undefined) checkName('workspace', flags['workspace-id'], '--workspace-id')
  if (flags['group-id'] !== undefined) checkName('group', flags['group-id'], '--group-id')
  if (flags.consumer !== undefined) checkName('consumer', flags.consumer, '--consumer')
  if (flags['group-id'] && !flags['workspace-id']) throw usageError('--group-id needs --workspace-id')
  const scope = {capability: flags.capability, workspaceId: flags['workspace-id'], groupId: flags['group-id'], consumer: flags.consumer}
  // The binding's id, made of all four, is its file name.
  if (!fitsFileName(bindingId(scope.capability, scope))) throw usageError('the binding\'s capability, workspace, group and consumer are too long together for its file name', 'use shorter names')
  return scope
}

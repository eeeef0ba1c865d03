import {Flags} from '@oclif/core'

import {renderGroupChange} from '../render/secrets'
import {scopeLabel} from '../vault/scope'
import type {SecretMeta} from '../vault/store/secret-record'
import {setGroupAttachment} from '../vault/secrets-service'
import {Vault} from '../vault/vault'
import {checkName} from './flags'
import {parseSecretRef} from './secret-ref'

/** Flags of attach-group and detach-group: the secret, and the group to (de)attach. */
export const groupFlags = {
  id: Flags.string({description: 'Secret id.'}),
  name: Flags.string({description: 'Secret name or alias.'}),
  'workspace-id': Flags.string({description: 'Workspace of the group.', required: true}),
  'group-id': Flags.string({description: 'Group id.', required: true}),
}

export async function changeGroup(
  flags: {id?: string; name?: string; 'workspace-id': string; 'group-id': string},
  attach: boolean,
): Promise<{secret: SecretMeta; changed: boolean; text: string}> {
  const ref = parseSecretRef({id: flags.id, name: flags.name})
  const group = {workspaceId: checkName('workspace', flags['workspace-id'], '--workspace-id'), groupId: checkName('group', flags['group-id'], '--group-id')}
  const {secret, changed} = await setGroupAttachment(Vault.fromEnv(), ref, group, attach)
  return {secret, changed, text: renderGroupChange(secret, scopeLabel({type: 'group', ...group}), attach, changed)}
}

import {Flags} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import {listBindings} from '../../broker/admin'
import {table} from '../../render/text'
import type {Binding} from '../../vault/store/broker-records'
import {Vault} from '../../vault/vault'

export default class CapabilityBindings extends AivaultCommand {
  static summary = 'List capability bindings.'

  static examples = ['<%= config.bin %> capability bindings', '<%= config.bin %> capability bindings --capability openai/chat-completions --json']

  static flags = {capability: Flags.string({description: 'Only this capability.'})}

  async run(): Promise<{bindings: Binding[]}> {
    const {flags} = await this.parse(CapabilityBindings)
    const bindings = listBindings(Vault.fromEnv(), flags.capability)
    this.log(
      bindings.length === 0
        ? 'No bindings.'
        : table(
            ['ID', 'CAPABILITY', 'TARGET', 'WORKSPACE', 'GROUP', 'CONSUMER'],
            bindings.map((b) => [b.id, b.capability, b.credential ?? b.secretRef ?? '', b.workspaceId ?? '-', b.groupId ?? '-', b.consumer ?? '-']),
          ),
    )
    return {bindings}
  }
}

import {Args} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import {auditTrust} from '../../cli/plugin-changes'
import {Vault} from '../../vault/vault'
import {untrustPlugin} from '../../plugins/trust'

export default class PluginsUntrust extends AivaultCommand {
  static summary = "Stop a plugin's provider hook from receiving decrypted secrets."

  static examples = ['<%= config.bin %> plugins untrust aivault-plugin-postgres']

  static args = {name: Args.string({required: true, description: 'The plugin package name.'})}

  async run(): Promise<{untrusted: string; wasTrusted: boolean}> {
    const {args} = await this.parse(PluginsUntrust)
    const wasTrusted = untrustPlugin(args.name)
    if (wasTrusted) await auditTrust(Vault.fromEnv(), 'plugin.untrust', {plugin: args.name})
    this.log(wasTrusted ? `Plugin ${args.name} is no longer trusted.` : `Plugin ${args.name} was not trusted.`)
    return {untrusted: args.name, wasTrusted}
  }
}

import {Args} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import {auditTrust} from '../../cli/plugin-changes'
import {Vault} from '../../vault/vault'
import {findInstalledPlugin} from '../../plugins/installed'
import {TrustRecord, trustPlugin} from '../../plugins/trust'

export default class PluginsTrust extends AivaultCommand {
  static summary = "Let a plugin's provider hook receive decrypted secrets, for its files as they are now."

  static description = 'Records a digest of every file in the plugin\'s folder. Any later change to those files makes the plugin untrusted (plugin_untrusted) until you review it and trust it again.'

  static examples = ['<%= config.bin %> plugins trust aivault-plugin-postgres']

  static args = {name: Args.string({required: true, description: 'The plugin package name.'})}

  async run(): Promise<{trusted: TrustRecord}> {
    const {args} = await this.parse(PluginsTrust)
    const trusted = trustPlugin(findInstalledPlugin(args.name))
    await auditTrust(Vault.fromEnv(), 'plugin.trust', {plugin: trusted.name, digest: trusted.digest})
    this.log(`Trusted plugin ${trusted.name} (digest ${trusted.digest.slice(0, 16)}): its provider hook may receive decrypted secrets while its files stay unchanged.`)
    return {trusted}
  }
}

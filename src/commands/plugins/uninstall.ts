import {Args} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import {restartNoticeAfterPluginChange} from '../../cli/plugin-changes'
import {uninstallPlugin} from '../../plugins/manage'

export default class PluginsUninstall extends AivaultCommand {
  static summary = 'Remove an installed or linked plugin (and forget its trust).'

  static hiddenAliases = ['plugins:unlink', 'plugins:remove']

  static examples = ['<%= config.bin %> plugins uninstall aivault-plugin-example']

  static args = {name: Args.string({required: true, description: 'The plugin package name.'})}

  async run(): Promise<{uninstalled: string; untrusted: boolean}> {
    const {args} = await this.parse(PluginsUninstall)
    const {name, untrusted} = await uninstallPlugin(this.config, args.name, this.jsonEnabled())
    this.log(`Removed plugin ${name}${untrusted ? ' and its trust' : ''}`)
    const notice = await restartNoticeAfterPluginChange()
    if (notice) this.log(notice)
    return {uninstalled: name, untrusted}
  }
}

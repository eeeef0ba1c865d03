import {Args, Flags} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import {restartNoticeAfterPluginChange} from '../../cli/plugin-changes'
import {installPlugin, PluginChange} from '../../plugins/manage'
import {renderPluginChange} from '../../render/plugins'

export default class PluginsInstall extends AivaultCommand {
  static summary = 'Install a plugin from npm, a local folder or a packed .tgz (npm lifecycle scripts never run).'

  static description =
    'The plugin is checked before it is kept: its provider YAML must pass the registry schema and rules, it may not reuse a built-in provider id or secret name, and it may not shadow an aivault command (--force keeps it anyway: aivault\'s command still runs and a refused provider is not loaded). A running aivaultd is stopped so it loads the plugin.'

  static examples = [
    '<%= config.bin %> plugins install aivault-plugin-postgres',
    '<%= config.bin %> plugins install ./aivault-plugin-example-0.1.0.tgz',
    '<%= config.bin %> plugins install ../my-plugin',
  ]

  static args = {plugin: Args.string({required: true, description: 'An npm package name, a folder or a packed .tgz file.'})}

  static flags = {force: Flags.boolean({description: 'Keep a plugin whose providers are refused or that shadows an aivault command.'})}

  async run(): Promise<{plugin: PluginChange}> {
    const {args, flags} = await this.parse(PluginsInstall)
    const plugin = await installPlugin(this.config, args.plugin, {force: flags.force, quiet: this.jsonEnabled()})
    this.log(renderPluginChange('Installed', plugin))
    const notice = await restartNoticeAfterPluginChange()
    if (notice) this.log(notice)
    return {plugin}
  }
}

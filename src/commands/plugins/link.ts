import {Args, Flags} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import {restartNoticeAfterPluginChange} from '../../cli/plugin-changes'
import {linkPlugin, PluginChange} from '../../plugins/manage'
import {renderPluginChange} from '../../render/plugins'

export default class PluginsLink extends AivaultCommand {
  static summary = 'Link a plugin from a local folder (for development: edits apply without reinstalling).'

  static description = 'The folder is checked like an install; its dependencies are not installed (run npm install in it first). Editing a trusted plugin\'s files makes it untrusted until you trust it again.'

  static examples = ['<%= config.bin %> plugins link ./plugins/aivault-plugin-example']

  static args = {path: Args.string({required: true, description: 'The plugin package folder.'})}

  static flags = {force: Flags.boolean({description: 'Keep a plugin whose providers are refused or that shadows an aivault command.'})}

  async run(): Promise<{plugin: PluginChange}> {
    const {args, flags} = await this.parse(PluginsLink)
    const plugin = await linkPlugin(this.config, args.path, {force: flags.force, quiet: this.jsonEnabled()})
    this.log(renderPluginChange('Linked', plugin))
    const notice = await restartNoticeAfterPluginChange()
    if (notice) this.log(notice)
    return {plugin}
  }
}

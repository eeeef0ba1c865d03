import {AivaultCommand} from '../../base-command'
import {listPlugins, PluginListing} from '../../plugins/listing'
import {renderPluginList} from '../../render/plugins'

export default class PluginsList extends AivaultCommand {
  static summary = 'List installed and linked plugins: their providers, hooks, trust, and why anything was refused.'

  static examples = ['<%= config.bin %> plugins list', '<%= config.bin %> plugins list --json']

  async run(): Promise<{plugins: PluginListing[]}> {
    await this.parse(PluginsList)
    const plugins = listPlugins()
    this.log(renderPluginList(plugins))
    return {plugins}
  }
}

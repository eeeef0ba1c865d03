import {AivaultCommand} from '../base-command'
import type {DemoResult} from '../demo/tour'
import {runDemo} from '../demo/tour'

export default class Demo extends AivaultCommand {
  static summary = 'A one-minute offline tour: store a key, invoke a capability, see what is refused.'

  static description = 'Uses a throwaway testing vault and an embedded HTTPS API that answers like OpenAI; touches nothing of yours and cleans up after itself.'

  static examples = ['<%= config.bin %> demo']

  async run(): Promise<DemoResult> {
    await this.parse(Demo)
    return runDemo((line) => this.log(line))
  }
}

import {Args} from '@oclif/core'

import {AivaultCommand} from '../base-command'
import {failExit, failFlag, invokeFlags, invokeJson} from '../cli/invoke/run-invoke'

export default class Json extends AivaultCommand {
  static summary = 'Call a capability and print {planned, response: {status, json}}.'

  static hiddenAliases = ['capability:json']

  static examples = ['<%= config.bin %> json openai/models']

  static args = {capability: Args.string({description: 'Capability id.', required: true})}

  static flags = {...invokeFlags, ...failFlag}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Json)
    const result = await invokeJson(args.capability, flags)
    process.stdout.write(JSON.stringify(result, null, 2) + '\n')
    failExit(result.response.status, flags.fail)
  }
}

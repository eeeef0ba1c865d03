import {Args} from '@oclif/core'

import {AivaultCommand} from '../base-command'
import type {InvokeJson} from '../cli/invoke/run-invoke'
import {failExit, failFlag, invokeFlags, invokeJson, invokeRaw} from '../cli/invoke/run-invoke'

export default class Invoke extends AivaultCommand {
  static summary = 'Call a capability: the broker checks the request, injects the credential and prints the response body.'

  static description = `Prints the response body bytes only (never response headers); exits 0 for any HTTP status unless --fail.
With --json prints {planned, response: {status, json}}. The caller never sees the credential.`

  static hiddenAliases = ['capability:invoke', 'capability:call']

  static examples = [
    '<%= config.bin %> invoke openai/models',
    `<%= config.bin %> invoke openai/chat-completions --body '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}' --header content-type=application/json`,
    '<%= config.bin %> invoke github/repos --path /repos/octocat/hello-world --fail',
  ]

  static args = {capability: Args.string({description: 'Capability id, e.g. openai/chat-completions.', required: true})}

  static flags = {...invokeFlags, ...failFlag}

  async run(): Promise<InvokeJson | void> {
    const {args, flags} = await this.parse(Invoke)
    if (this.jsonEnabled()) {
      const result = await invokeJson(args.capability, flags)
      failExit(result.response.status, flags.fail)
      return result
    }
    const {status} = await invokeRaw(args.capability, flags)
    failExit(status, flags.fail)
  }
}

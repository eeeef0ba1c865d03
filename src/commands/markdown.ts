import {Args, Flags} from '@oclif/core'

import {AivaultCommand} from '../base-command'
import {failFlag, invokeFlags, invokeMarkdown, markdownStatus} from '../cli/invoke/run-invoke'

export default class Markdown extends AivaultCommand {
  static summary = 'Call a capability and render its JSON response as markdown (for agents to read).'

  static aliases = ['md']
  static hiddenAliases = ['capability:markdown', 'capability:md']

  static description = 'A non-2xx answer still has its body rendered, and the status is reported on stderr: exit 1, or 22 with --fail.'

  static examples = ['<%= config.bin %> md github/users --path /users/octocat --exclude-field node_id']

  static args = {capability: Args.string({description: 'Capability id.', required: true})}

  static flags = {
    ...invokeFlags,
    ...failFlag,
    namespace: Flags.string({description: 'Wrap the output in <begin NAME> ... </end NAME>.'}),
    'exclude-field': Flags.string({description: 'Leave out this key at any depth (repeatable).', multiple: true}),
    'wrap-field': Flags.string({description: 'Fence this string field in <begin key>/<end key> (repeatable).', multiple: true}),
  }

  async run(): Promise<{status: number; markdown: string}> {
    const {args, flags} = await this.parse(Markdown)
    const result = await invokeMarkdown(args.capability, flags, {namespace: flags.namespace, excludeFields: flags['exclude-field'], wrapFields: flags['wrap-field']})
    // Stdout is the markdown ending in exactly one newline: a --namespace block already ends in
    // one (SPEC §15), the rest is right-trimmed.
    this.log(result.markdown.endsWith('\n') ? result.markdown.slice(0, -1) : result.markdown)
    const failed = markdownStatus(args.capability, result.status, flags.fail)
    if (failed && !this.jsonEnabled()) process.stderr.write(`Error: ${failed}\n`)
    return result
  }
}

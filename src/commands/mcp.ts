import {Flags} from '@oclif/core'

import {AivaultCommand} from '../base-command'
import {MAX_BODY_RANGE, MCP_FLAG_TABLE, mcpServerOptions} from '../cli/fast/mcp-flags'
import {within} from '../cli/flags'
import {serveMcpOverStdio} from '../cli/invoke/mcp-stdio'

export default class Mcp extends AivaultCommand {
  static summary = "Serve the vault's capabilities as MCP tools on stdin/stdout, for Claude, Cursor, VS Code and other agent hosts."

  static description = `Tools: list_capabilities, describe_capability and invoke (plus one tool per ready capability with --tool-per-capability).
Every call goes through the broker, as "aivault invoke" does (through aivaultd when it runs): policies, rate limits, scrubbing and audit, with the MCP client's name as the consumer unless --consumer is given. The agent never sees a credential.
Configure it in the agent host as the command "aivault" with the arguments "mcp". See docs/mcp.md.`

  // stdout carries MCP messages only: no --json, and -v (hidden) never prints errors there.
  static enableJsonFlag = false
  static baseFlags = {verbose: {...AivaultCommand.baseFlags.verbose, hidden: true}}

  static examples = ['<%= config.bin %> mcp', "<%= config.bin %> mcp --capability 'openai/*' --capability github/repos", '<%= config.bin %> mcp --tool-per-capability --consumer research-agent']

  static flags = {
    capability: Flags.string({description: MCP_FLAG_TABLE.capability.description, multiple: true}),
    'tool-per-capability': Flags.boolean({description: MCP_FLAG_TABLE['tool-per-capability'].description}),
    'workspace-id': Flags.string({description: MCP_FLAG_TABLE['workspace-id'].description}),
    'group-id': Flags.string({description: MCP_FLAG_TABLE['group-id'].description}),
    consumer: Flags.string({description: MCP_FLAG_TABLE.consumer.description}),
    'max-body-bytes': Flags.integer({description: MCP_FLAG_TABLE['max-body-bytes'].description, ...within(...MAX_BODY_RANGE)}),
  }

  public jsonEnabled(): boolean {
    return false
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Mcp)
    await serveMcpOverStdio(mcpServerOptions(flags))
  }
}

import {Flags} from '@oclif/core'

import {AivaultCommand} from '../base-command'
import {contextFromFlags} from '../cli/invoke/invoke-flags'
import {within} from '../cli/flags'
import {parsePatterns} from '../mcp/exposure'
import {DEFAULT_MAX_BODY_BYTES} from '../mcp/mcp-server'
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
    capability: Flags.string({description: 'Expose only capabilities matching this id or pattern ("*" matches any run of characters); repeatable. Default: every ready capability.', multiple: true}),
    'tool-per-capability': Flags.boolean({description: 'Also offer one tool per ready capability, named after it.'}),
    'workspace-id': Flags.string({description: 'Call on behalf of this workspace.'}),
    'group-id': Flags.string({description: 'Call on behalf of this group (with --workspace-id).'}),
    consumer: Flags.string({description: "Consumer name for bindings and audit (default: the MCP client's name)."}),
    'max-body-bytes': Flags.integer({description: `Cut response bodies longer than this in tool results (default ${DEFAULT_MAX_BODY_BYTES}).`, ...within(1024, 64 << 20)}),
  }

  public jsonEnabled(): boolean {
    return false
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Mcp)
    const exposure = parsePatterns(flags.capability)
    const {clientIp: _clientIp, ...context} = contextFromFlags(flags)
    await serveMcpOverStdio({exposure, toolPerCapability: flags['tool-per-capability'], maxBodyBytes: flags['max-body-bytes'] ?? DEFAULT_MAX_BODY_BYTES, context})
  }
}

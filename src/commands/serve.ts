import {Flags} from '@oclif/core'

import {AivaultCommand} from '../base-command'
import {within} from '../cli/flags'
import {usageError} from '../errors'
import {serveBroker} from '../server/serve'

export default class Serve extends AivaultCommand {
  static summary = 'Serve the broker over loopback HTTP so SDKs can use the vault by changing one base URL.'

  static description = `Routes: POST /aivault/proxy (an envelope, with "Authorization: Bearer <proxy token>"), GET /aivault/health, and ANY /v/<credential>/<path>: point an SDK's base URL at it and give it a proxy token (aivault token mint) where it expects its API key. The token is removed before anything leaves.
POST /mcp is an MCP server (streamable HTTP) for agent hosts, with the same token as a bearer: its capabilities are the tools (docs/mcp.md).

Once listening, serve records its address in the vault's run/serve.json (read by "aivault env --serve") and removes it on exit; --json prints {url, host, port, pid} on stdout then.`

  static examples = [
    '<%= config.bin %> serve --port 8787',
    '<%= config.bin %> serve --port 0 --json',
    'OPENAI_BASE_URL=http://127.0.0.1:8787/v/openai/v1 OPENAI_API_KEY=$(<%= config.bin %> token mint --capability openai/chat-completions --json | jq -r .token) python app.py',
  ]

  static flags = {
    host: Flags.string({description: 'Address to listen on.', default: '127.0.0.1'}),
    port: Flags.integer({description: 'Port to listen on (0 picks a free one).', default: 8787, ...within(0, 65535)}),
    'allow-remote': Flags.boolean({description: 'Accept clients that are not on loopback.'}),
    workers: Flags.integer({description: 'Worker processes sharing the port (rate limits, tokens and audit stay consistent across them).', default: 1, ...within(1, 64)}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Serve)
    if (!flags['allow-remote'] && !['127.0.0.1', '::1', 'localhost'].includes(flags.host)) {
      throw usageError(`--host ${flags.host} is not a loopback address`, 'add --allow-remote to listen beyond this machine')
    }
    // --json: one object on stdout once listening; the address is also in run/serve.json until serve stops.
    const json = this.jsonEnabled()
    await serveBroker({
      host: flags.host,
      port: flags.port,
      allowRemote: flags['allow-remote'],
      workers: flags.workers,
      onListening: json ? (address) => process.stdout.write(JSON.stringify(address) + '\n') : undefined,
    })
  }
}

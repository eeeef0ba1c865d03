import {Flags} from '@oclif/core'

import {AivaultCommand} from '../base-command'
import {within} from '../cli/flags'
import {usageError} from '../errors'
import {loadRegistry} from '../plugins/runtime'
import {sdkVariables, serveBase} from '../server/sdk-env'
import {Vault} from '../vault/vault'

export default class Env extends AivaultCommand {
  static summary = 'Print the environment variables that point common SDKs at `aivault serve`.'

  static description = [
    "The address is --host/--port when given, else the running serve's (recorded in the vault's run/serve.json), else 127.0.0.1:8787.",
    "One credential per provider: the global one first, then by id. With --token, only the providers the token's capabilities cover, with the token as their API key.",
  ].join('\n\n')

  static examples = ['eval "$(<%= config.bin %> env --serve --token $(<%= config.bin %> token mint --capability openai/chat-completions --json | jq -r .token))"']

  static flags = {
    serve: Flags.boolean({description: 'Variables for `aivault serve` (required; other targets may come later).', required: true}),
    host: Flags.string({description: 'Where serve listens (default: the running serve\'s address, else 127.0.0.1).'}),
    port: Flags.integer({description: 'Where serve listens (default: the running serve\'s port, else 8787).', ...within(1, 65535)}),
    token: Flags.string({description: 'A proxy token to export as each covered SDK\'s API key (else a placeholder for every provider).'}),
  }

  async run(): Promise<{base: string; variables: Record<string, string>}> {
    const {flags} = await this.parse(Env)
    if (flags.token !== undefined && !flags.token.startsWith('avp_')) throw usageError('--token must be a proxy token (avp_...)', 'mint one with "aivault token mint"')
    const vault = Vault.fromEnv()
    const {base} = serveBase(vault, flags)
    const variables = sdkVariables(vault, loadRegistry(), {base, token: flags.token})
    const none = flags.token === undefined ? '# no credentials of providers with a known SDK base URL' : '# the token covers no credential of a provider with a known SDK base URL'
    this.log(Object.entries(variables).map(([k, v]) => `export ${k}=${JSON.stringify(v)}`).join('\n') || none)
    return {base, variables}
  }
}

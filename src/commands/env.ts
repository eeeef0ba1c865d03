import {Flags} from '@oclif/core'

import {AivaultCommand} from '../base-command'
import {within} from '../cli/flags'
import {usageError} from '../errors'
import {Vault} from '../vault/vault'

/** Base-URL variables of common SDKs, by provider: the part after /v/<credential>. */
const SDK_BASES: Record<string, Array<[string, string]>> = {
  openai: [['OPENAI_BASE_URL', '/v1']],
  anthropic: [['ANTHROPIC_BASE_URL', '']],
  openrouter: [['OPENROUTER_BASE_URL', '/api/v1']],
  groq: [['GROQ_BASE_URL', '/openai/v1']],
  mistral: [['MISTRAL_BASE_URL', '']],
  gemini: [['GOOGLE_GEMINI_BASE_URL', '']],
  github: [['GITHUB_API_URL', '']],
}
const KEY_VARS: Record<string, string> = {openai: 'OPENAI_API_KEY', anthropic: 'ANTHROPIC_API_KEY', openrouter: 'OPENROUTER_API_KEY', groq: 'GROQ_API_KEY', mistral: 'MISTRAL_API_KEY', gemini: 'GEMINI_API_KEY', github: 'GITHUB_TOKEN'}

export default class Env extends AivaultCommand {
  static summary = 'Print the environment variables that point common SDKs at `aivault serve`.'

  static examples = ['eval "$(<%= config.bin %> env --serve --token $(<%= config.bin %> token mint --capability openai/chat-completions --json | jq -r .token))"']

  static flags = {
    serve: Flags.boolean({description: 'Variables for `aivault serve` (required; other targets may come later).', required: true}),
    host: Flags.string({description: 'Where serve listens.', default: '127.0.0.1'}),
    port: Flags.integer({description: 'Where serve listens.', default: 8787, ...within(1, 65535)}),
    token: Flags.string({description: 'A proxy token to export as each SDK API key (else a placeholder).'}),
  }

  async run(): Promise<{variables: Record<string, string>}> {
    const {flags} = await this.parse(Env)
    if (flags.token !== undefined && !flags.token.startsWith('avp_')) throw usageError('--token must be a proxy token (avp_...)', 'mint one with "aivault token mint"')
    const vault = Vault.fromEnv()
    const credentials = vault.exists() ? vault.credentials.list().records : []
    const base = `http://${flags.host}:${flags.port}`
    const variables: Record<string, string> = {}
    for (const credential of credentials) {
      for (const [name, suffix] of SDK_BASES[credential.provider] ?? []) {
        if (variables[name]) continue // the first (global) credential of a provider wins
        variables[name] = `${base}/v/${encodeURIComponent(credential.id)}${suffix}`
        variables[KEY_VARS[credential.provider]] = flags.token ?? '<proxy token from aivault token mint>'
      }
    }
    this.log(Object.entries(variables).map(([k, v]) => `export ${k}=${JSON.stringify(v)}`).join('\n') || '# no credentials of providers with a known SDK base URL')
    return {variables}
  }
}

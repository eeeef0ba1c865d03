import {Flags} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import type {ConsentPlan} from '../../broker/credential/oauth-setup'
import {buildConsent} from '../../broker/credential/oauth-setup'
import {usageError} from '../../errors'
import {loadRegistry} from '../../plugins/runtime'

export default class OAuthSetup extends AivaultCommand {
  static summary = 'Print the OAuth consent URL for a provider; store the refresh token you get as its secret.'

  static description = `aivault never sees the authorization code: exchange it with your own tool, then store {"clientId","clientSecret","refreshToken"} as the provider's secret. The broker refreshes access tokens from then on.`

  static examples = [
    '<%= config.bin %> oauth setup --provider google-gmail --client-id 123.apps.googleusercontent.com',
    '<%= config.bin %> oauth setup --auth-url https://auth.example.com/authorize --client-id app --scope read --pkce',
  ]

  static flags = {
    provider: Flags.string({description: 'Registry OAuth2 provider (google-gmail, ...).'}),
    'auth-url': Flags.string({description: 'Authorization endpoint (for custom providers).'}),
    'client-id': Flags.string({description: 'OAuth client id.', required: true}),
    'redirect-uri': Flags.string({description: 'Redirect URI registered for the client.', default: 'http://127.0.0.1:8765/callback'}),
    scope: Flags.string({description: 'Scope to request (repeatable; defaults to the provider scopes).', multiple: true}),
    pkce: Flags.boolean({description: 'Public client: add a PKCE S256 challenge and print the verifier.'}),
  }

  async run(): Promise<ConsentPlan> {
    const {flags} = await this.parse(OAuthSetup)
    if (!flags.provider && !flags['auth-url']) throw usageError('pass --provider or --auth-url')
    const plan = buildConsent(loadRegistry(), {
      provider: flags.provider,
      authorizationEndpoint: flags['auth-url'],
      clientId: flags['client-id'],
      redirectUri: flags['redirect-uri'],
      scopes: flags.scope ?? [],
      pkce: flags.pkce,
    })
    const lines = [`Open this URL and grant access:\n\n  ${plan.url}\n`, `Check that the callback's state is ${plan.state}.`]
    if (plan.codeVerifier) lines.push(`PKCE code verifier for the exchange: ${plan.codeVerifier}`)
    lines.push(
      'Exchange the code for tokens with your OAuth client, then store the secret (from a file or stdin, never the command line):',
      `  aivault secrets create --name ${plan.secretName ?? '<NAME>'} --value-stdin <<< '${JSON.stringify(plan.secretTemplate)}'`,
    )
    this.log(lines.join('\n'))
    return plan
  }
}

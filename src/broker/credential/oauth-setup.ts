import * as crypto from 'node:crypto'

import {AivaultError} from '../../errors'
import type {Registry} from '../../registry/registry'

export interface ConsentRequest {
  provider?: string
  authorizationEndpoint?: string
  clientId: string
  redirectUri: string
  scopes: string[]
  pkce: boolean
}

export interface ConsentPlan {
  url: string
  state: string
  /** PKCE verifier to give the code exchange (public clients); null without --pkce. */
  codeVerifier: string | null
  secretName: string | null
  secretTemplate: Record<string, string>
}

/**
 * Build the OAuth consent URL (authorization-code flow with offline access). The code
 * exchange itself stays outside the broker: the operator stores the resulting refresh token
 * as the provider's secret JSON, and the broker refreshes access tokens from then on.
 */
export function buildConsent(registry: Registry, request: ConsentRequest): ConsentPlan {
  let endpoint = request.authorizationEndpoint
  let scopes = request.scopes
  let secretName: string | null = null
  if (request.provider) {
    const provider = registry.provider(request.provider)
    if (!provider || !('o_auth2' in provider.auth)) throw new AivaultError('invalid_request', `${request.provider} is not an OAuth2 provider in the registry`)
    endpoint ??= provider.auth.o_auth2.authorization_endpoint
    if (scopes.length === 0) scopes = provider.auth.o_auth2.scopes ?? []
    secretName = Object.keys(provider.vaultSecrets)[0]
  }
  if (!endpoint) throw new AivaultError('invalid_request', 'no authorization endpoint known', {hint: 'pass --auth-url'})
  const url = new URL(endpoint)
  if (url.protocol !== 'https:') throw new AivaultError('invalid_request', 'the authorization endpoint must be https')
  const state = crypto.randomBytes(16).toString('base64url')
  url.searchParams.set('response_type', 'code')
  url.searchParams.set('client_id', request.clientId)
  url.searchParams.set('redirect_uri', request.redirectUri)
  if (scopes.length > 0) url.searchParams.set('scope', scopes.join(' '))
  url.searchParams.set('state', state)
  url.searchParams.set('access_type', 'offline')
  url.searchParams.set('prompt', 'consent')
  let codeVerifier: string | null = null
  if (request.pkce) {
    codeVerifier = crypto.randomBytes(32).toString('base64url')
    url.searchParams.set('code_challenge', crypto.createHash('sha256').update(codeVerifier).digest('base64url'))
    url.searchParams.set('code_challenge_method', 'S256')
  }
  const secretTemplate: Record<string, string> = {clientId: request.clientId, refreshToken: '<refresh token from the code exchange>'}
  if (!request.pkce) secretTemplate.clientSecret = '<client secret>'
  return {url: url.toString(), state, codeVerifier, secretName, secretTemplate}
}

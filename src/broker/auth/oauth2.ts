import {AivaultError} from '../../errors'
import type {OAuth2Auth} from '../../registry/types'
import {parseJsonObject} from './templates'
import type {AuthInjection} from './types'

/** The secret JSON of an OAuth2 credential (SPEC §15). */
interface OAuthSecret {
  clientId: string
  clientSecret?: string
  refreshToken?: string
  accessToken?: string
  /** ISO-8601 (epoch milliseconds accepted on input). */
  accessTokenExpiresAt?: string | number
}

/** Storage of the secret JSON: read fresh, and update atomically under a per-secret lock. */
export interface OAuthSecretStore {
  read(): Promise<string>
  update(mutate: (current: string) => Promise<string | undefined>): Promise<string>
}

/** POST an urlencoded form to the token endpoint through the broker's network guard. */
export type TokenPost = (url: URL, form: URLSearchParams) => Promise<{status: number; body: string}>

const EARLY_REFRESH_MS = 60_000

function parseSecret(text: string): OAuthSecret {
  const json = parseJsonObject(text)
  if (!json || typeof json.clientId !== 'string') {
    throw new AivaultError('auth_failed', 'an oauth2 secret must be JSON {"clientId", "clientSecret"?, "refreshToken"?, "accessToken"?, "accessTokenExpiresAt"?}')
  }
  return json as unknown as OAuthSecret
}

function expiresAtMs(secret: OAuthSecret): number {
  const at = secret.accessTokenExpiresAt
  if (typeof at === 'number') return at
  if (typeof at === 'string') return /^\d+$/.test(at) ? Number(at) : Date.parse(at)
  return 0
}

function usable(secret: OAuthSecret, now: number): boolean {
  return typeof secret.accessToken === 'string' && secret.accessToken !== '' && expiresAtMs(secret) > now + EARLY_REFRESH_MS
}

/** In-process single flight: concurrent invokes of one credential share one token call. */
const inFlight = new Map<string, Promise<string>>()

async function refresh(config: OAuth2Auth['o_auth2'], store: OAuthSecretStore, post: TokenPost, staleToken: string | undefined): Promise<string> {
  const updated = await store.update(async (current) => {
    const secret = parseSecret(current)
    // Another process may have refreshed while this one waited for the lock.
    if (usable(secret, Date.now()) && secret.accessToken !== staleToken) return undefined
    const form = new URLSearchParams({grant_type: config.grant_type, client_id: secret.clientId})
    if (secret.clientSecret) form.set('client_secret', secret.clientSecret)
    if (config.grant_type === 'refresh_token') {
      if (!secret.refreshToken) throw new AivaultError('oauth_refresh_failed', 'the oauth2 secret has no refreshToken', {hint: 'run "aivault oauth setup" and store the refresh token'})
      form.set('refresh_token', secret.refreshToken)
    }
    if (config.scopes && config.scopes.length > 0) form.set('scope', config.scopes.join(' '))
    const reply = await post(new URL(config.token_endpoint), form)
    const body = parseJsonObject(reply.body)
    if (reply.status < 200 || reply.status >= 300 || !body || typeof body.access_token !== 'string') {
      const reason = body && typeof body.error === 'string' ? `: ${body.error}` : ''
      throw new AivaultError('oauth_refresh_failed', `the token endpoint answered ${reply.status}${reason}`)
    }
    const lifetime = typeof body.expires_in === 'number' ? body.expires_in : Number(body.expires_in ?? 3600)
    const next: OAuthSecret = {
      ...secret,
      accessToken: body.access_token,
      accessTokenExpiresAt: new Date(Date.now() + (Number.isFinite(lifetime) ? lifetime : 3600) * 1000).toISOString(),
    }
    if (typeof body.refresh_token === 'string' && body.refresh_token !== '') next.refreshToken = body.refresh_token
    return JSON.stringify(next)
  })
  return parseSecret(updated).accessToken as string
}

/**
 * OAuth2 (refresh_token and client_credentials): use the cached access token while it is
 * valid, else refresh once (single flight in this process; a per-secret lock and a re-read
 * across processes) and write the new token back into the secret record. `force` is used
 * after an upstream 401: the token it names is treated as bad.
 */
export async function oauth2Auth(
  config: OAuth2Auth['o_auth2'],
  key: string,
  store: OAuthSecretStore,
  post: TokenPost,
  options: {force?: boolean; staleToken?: string} = {},
): Promise<AuthInjection> {
  const secret = parseSecret(await store.read())
  let token: string
  if (!options.force && usable(secret, Date.now())) {
    token = secret.accessToken as string
  } else {
    let flight = inFlight.get(key)
    if (!flight) {
      flight = refresh(config, store, post, options.force ? (options.staleToken ?? secret.accessToken) : undefined).finally(() => inFlight.delete(key))
      inFlight.set(key, flight)
    }
    token = await flight
  }
  const redact = [token, secret.refreshToken, secret.clientSecret].filter((v): v is string => typeof v === 'string' && v !== '')
  return {headers: [['authorization', `Bearer ${token}`]], query: [], redact}
}

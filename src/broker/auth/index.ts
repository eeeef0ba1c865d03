import {AivaultError} from '../../errors'
import type {AuthSpec} from '../../registry/types'
import {signAwsSigV4} from './aws-sigv4'
import {signHmac} from './hmac'
import type {OAuthSecretStore, TokenPost} from './oauth2'
import {oauth2Auth} from './oauth2'
import {basicAuth, headerAuth, mtlsAuth, multiHeaderAuth, multiQueryAuth, pathAuth, queryAuth} from './simple'
import type {AuthInjection, AuthMaterial, OutgoingRequest} from './types'

export interface AuthRuntime {
  material: AuthMaterial
  request: OutgoingRequest
  now: Date
  /** OAuth2 only: where its token lives and how to reach the token endpoint. */
  oauth?: {key: string; store: OAuthSecretStore; post: TokenPost; force?: boolean; staleToken?: string}
}

/** Header and query names a strategy injects; callers may never set them (SPEC §7 steps 5, 8). */
export function injectedNames(auth: AuthSpec): {headers: Set<string>; query: Set<string>} {
  const headers = new Set<string>()
  const query = new Set<string>()
  if ('header' in auth) headers.add(auth.header.header_name.toLowerCase())
  if ('query' in auth) query.add(auth.query.param_name)
  if ('basic' in auth || 'o_auth2' in auth) headers.add('authorization')
  if ('multi_header' in auth) for (const e of auth.multi_header) headers.add(e.header_name.toLowerCase())
  if ('multi_query' in auth) for (const e of auth.multi_query) query.add(e.param_name)
  if ('aws_sig_v4' in auth) for (const h of ['authorization', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token']) headers.add(h)
  if ('hmac' in auth) headers.add(auth.hmac.header_name.toLowerCase()).add('x-aivault-timestamp')
  return {headers, query}
}

/**
 * The strategies whose injection depends on the secret material alone, not on the request or
 * the time (header, query, path, basic, several headers or query parameters, mTLS): a
 * long-lived process applies them once per decrypted material. Undefined for the others.
 */
export function applyFixedAuth(auth: AuthSpec, material: AuthMaterial): AuthInjection | undefined {
  if ('header' in auth) return headerAuth(auth.header, material)
  if ('query' in auth) return queryAuth(auth.query, material)
  if ('path' in auth) return pathAuth(auth.path, material)
  if ('basic' in auth) return basicAuth(auth.basic, material)
  if ('multi_header' in auth) return multiHeaderAuth(auth.multi_header, material)
  if ('multi_query' in auth) return multiQueryAuth(auth.multi_query, material)
  if ('mtls' in auth) return mtlsAuth(material)
  return undefined
}

/** Apply one auth strategy; an unknown kind fails closed. */
export async function applyAuth(auth: AuthSpec, runtime: AuthRuntime): Promise<AuthInjection> {
  const {material, request, now} = runtime
  const fixed = applyFixedAuth(auth, material)
  if (fixed) return fixed
  if ('aws_sig_v4' in auth) return signAwsSigV4(auth.aws_sig_v4, material, request, now)
  if ('hmac' in auth) return signHmac(auth.hmac, material, request, now)
  if ('o_auth2' in auth) {
    if (!runtime.oauth) throw new AivaultError('auth_failed', 'oauth2 needs a token store')
    const {key, store, post, force, staleToken} = runtime.oauth
    return oauth2Auth(auth.o_auth2, key, store, post, {force, staleToken})
  }
  throw new AivaultError('auth_failed', `unknown auth strategy ${JSON.stringify(Object.keys(auth)[0])}`)
}

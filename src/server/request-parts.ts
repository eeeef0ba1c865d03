/**
 * The pure parts of reading a request to `aivault serve` (SPEC §10): which route a raw path
 * takes, where the caller's proxy token is, which headers may go upstream, and whether the
 * client is on loopback. No I/O: the server (http-server.ts) decides what to do with them.
 */
import type {IncomingHttpHeaders} from 'node:http'

import {AivaultError} from '../errors'

const PASSTHROUGH = /^\/v\/([^/]+)(\/.*)?$/
/** Headers an SDK sends that never go upstream: credentials (the proxy token) and hop-by-hop. */
const CALLER_ONLY = new Set(['authorization', 'x-api-key', 'proxy-authorization', 'cookie', 'host', 'connection', 'keep-alive', 'content-length', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'accept-encoding'])
/** Query parameters an SDK may carry its key in; only a value that looks like a proxy token counts. */
const TOKEN_PARAMS = ['key', 'api_key', 'token', 'access_token']

/** `/v/<credential>/<rest>` split into the raw credential segment and the raw rest (`/` when there is none). */
export function splitPassthrough(rawPath: string): {segment: string; rest: string} | undefined {
  const match = PASSTHROUGH.exec(rawPath)
  return match ? {segment: match[1], rest: match[2] ?? '/'} : undefined
}

/** The credential id in a passthrough path: percent-decoded, and never a path of its own. */
export function decodeCredentialId(segment: string): string {
  let id = segment
  try {
    if (segment.includes('%')) id = decodeURIComponent(segment)
  } catch {
    throw new AivaultError('invalid_request', 'bad percent-encoding in the credential id')
  }
  if (id === '.' || id === '..' || /[/\\]/.test(id)) throw new AivaultError('policy_violation', 'invalid credential id in the path')
  return id
}

/** The caller's headers that may go upstream (the broker validates them again). */
export function forwardedHeaders(headers: IncomingHttpHeaders): Array<{name: string; value: string}> {
  const out: Array<{name: string; value: string}> = []
  for (const name in headers) {
    if (CALLER_ONLY.has(name)) continue
    const value = headers[name]
    if (Array.isArray(value)) for (const v of value) out.push({name, value: v})
    else if (value !== undefined) out.push({name, value})
  }
  return out
}

export function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1' || (address?.startsWith('127.') ?? false)
}

/** The token of `Authorization: Bearer <token>` (any case of "Bearer"), else undefined. */
export function bearerOf(headers: IncomingHttpHeaders): string | undefined {
  const header = headers.authorization
  return header === undefined ? undefined : /^Bearer\s+(\S+)$/i.exec(header)?.[1]
}

/** Where SDKs put their API key: `Authorization: Bearer`, `x-api-key`, or a query parameter. */
export function tokenFrom(headers: IncomingHttpHeaders, url: URL | undefined): string | undefined {
  const bearer = bearerOf(headers)
  if (bearer) return bearer
  const apiKey = headers['x-api-key']
  if (typeof apiKey === 'string' && apiKey !== '') return apiKey
  for (const [name, value] of url?.searchParams ?? []) if (value.startsWith('avp_') && TOKEN_PARAMS.includes(name)) return value
  return undefined
}

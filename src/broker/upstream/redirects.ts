/** `--follow-redirects` (SPEC §7 step 11): which redirects may be followed, and where to. */
import {AivaultError} from '../../errors'
import type {AuthInjection, OutgoingRequest} from '../auth/types'
import {normalizeTarget, pathMatchesPrefix} from '../request/path'
import {scrubText} from '../response/scrub'
import type {UpstreamResponse} from './upstream'
import {headerValue} from './upstream'

export function isRedirect(status: number | undefined): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308
}

/**
 * A redirect is followed only to the same host, re-validated like the original request. The
 * upstream names its paths with any path auth prefix and its query with any query auth: both
 * are injected again on the next hop, so they are taken out first. Messages show the target
 * scrubbed, like the planned request.
 */
export function redirectTarget(response: UpstreamResponse, request: OutgoingRequest, auth: AuthInjection, allow: {pathPrefixes: string[]; methods: string[]}, spellings: string[]) {
  const location = headerValue(response.headers, 'location')
  if (!location) throw new AivaultError('upstream_unreachable', `${request.host} redirected without a Location`)
  const base = `https://${request.host}${request.port === 443 ? '' : `:${request.port}`}/`
  const url = new URL(location, base)
  const port = url.port === '' ? 443 : Number(url.port)
  if (url.protocol !== 'https:' || url.hostname.toLowerCase() !== request.host.toLowerCase() || port !== request.port) {
    throw new AivaultError('policy_violation', `refusing a redirect to another host (${scrubText(`${url.protocol}//${url.host}`, spellings)})`)
  }
  const prefix = auth.pathPrefix
  const pathname = prefix && url.pathname.startsWith(`${prefix}/`) ? url.pathname.slice(prefix.length) : url.pathname
  const target = normalizeTarget(pathname + url.search)
  const next = auth.query.length === 0 ? target : {...target, query: target.query.filter(([name]) => !auth.query.some(([injected]) => injected === name))}
  if (!allow.pathPrefixes.some((p) => pathMatchesPrefix(next.segments, p))) {
    throw new AivaultError('policy_violation', `refusing a redirect outside the capability (${scrubText(next.path, spellings)})`)
  }
  if (!allow.methods.map((m) => m.toUpperCase()).includes(response.statusCode === 303 ? 'GET' : request.method)) {
    throw new AivaultError('policy_violation', 'refusing a redirect that changes to a method the capability does not allow')
  }
  return next
}

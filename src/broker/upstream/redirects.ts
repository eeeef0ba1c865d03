/** `--follow-redirects` (SPEC §7 step 11): which redirects may be followed, and where to. */
import {AivaultError} from '../../errors'
import type {AuthInjection, OutgoingRequest} from '../auth/types'
import {encodeSegment, normalizeTarget, pathMatchesPrefix} from '../request/path'
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
 * scrubbed, like the planned request, in the form they quote it (shownHost, shownPath).
 */
export function redirectTarget(response: UpstreamResponse, request: OutgoingRequest, auth: AuthInjection, allow: {pathPrefixes: string[]; methods: string[]}, spellings: string[]) {
  const location = headerValue(response.headers, 'location')
  if (!location) throw new AivaultError('upstream_unreachable', `${request.host} redirected without a Location`)
  const base = `https://${request.host}${request.port === 443 ? '' : `:${request.port}`}/`
  const url = new URL(location, base)
  const port = url.port === '' ? 443 : Number(url.port)
  if (url.protocol !== 'https:' || url.hostname.toLowerCase() !== request.host.toLowerCase() || port !== request.port) {
    throw new AivaultError('policy_violation', `refusing a redirect to another host (${shownHost(url, spellings)})`)
  }
  const prefix = auth.pathPrefix
  const pathname = prefix && url.pathname.startsWith(`${prefix}/`) ? url.pathname.slice(prefix.length) : url.pathname
  const target = normalizeTarget(pathname + url.search)
  const next = auth.query.length === 0 ? target : {...target, query: target.query.filter(([name]) => !auth.query.some(([injected]) => injected === name))}
  if (!allow.pathPrefixes.some((p) => pathMatchesPrefix(next.segments, p))) {
    throw new AivaultError('policy_violation', `refusing a redirect outside the capability (${shownPath(next.path, spellings)})`)
  }
  if (!allow.methods.map((m) => m.toUpperCase()).includes(response.statusCode === 303 ? 'GET' : request.method)) {
    throw new AivaultError('policy_violation', 'refusing a redirect that changes to a method the capability does not allow')
  }
  return next
}

/*
 * A refused redirect quotes what the upstream's Location named after URL parsing and path
 * normalization have rewritten it, so an echoed secret must be looked for as they write it:
 * the spellings alone (the Location header's own scrub) would miss a host the parser
 * lower-cased, or a segment it decoded and re-encoded differently (`a+ b` -> `a+%20b`).
 */

/** The refused target's scheme and host: the URL parser lower-cased the host, so the spellings are matched lower-cased. */
function shownHost(url: URL, spellings: string[]): string {
  return scrubText(`${url.protocol}//${url.host}`, longestFirst([...spellings, ...spellings.map((s) => s.toLowerCase())]))
}

/** The refused path, as normalizeTarget wrote it: each spelling is also matched as it would write it, segment by segment. */
function shownPath(path: string, spellings: string[]): string {
  return scrubText(path, longestFirst([...spellings, ...spellings.map(asNormalizedPath)]))
}

function asNormalizedPath(spelling: string): string {
  return spelling
    .split('/')
    .map((segment) => {
      try {
        return encodeSegment(decodeURIComponent(segment))
      } catch {
        return segment
      }
    })
    .join('/')
}

/** scrubText replaces in list order: a longer spelling first, so no shorter one leaves part of it behind. */
function longestFirst(spellings: string[]): string[] {
  return [...new Set(spellings)].sort((a, b) => b.length - a.length)
}

import {AivaultError} from '../../errors'

const policy = (message: string) => new AivaultError('policy_violation', message)
const invalid = (message: string) => new AivaultError('invalid_request', message)

/** RFC 3986 unreserved characters stay; everything else is %XX (UTF-8, upper-case). */
export function encodeRfc3986(text: string): string {
  // Lone surrogates become U+FFFD (as Buffer would) instead of making encodeURIComponent throw.
  const wellFormed = text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
  return encodeURIComponent(wellFormed).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
}

/** Path segments may also keep the sub-delimiters and `:@` unencoded (RFC 3986 pchar). */
/** One path segment as normalizeTarget writes it: RFC 3986, with the sub-delimiters, `:` and `@` left as they are. */
export function encodeSegment(segment: string): string {
  return encodeRfc3986(segment).replace(/%(3A|40|21|24|26|27|28|29|2A|2B|2C|3B|3D)/g, (m) => decodeURIComponent(m))
}

function decodeOnce(text: string, what: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    throw invalid(`${what} has bad percent-encoding`)
  }
}

// Control characters, raw or percent-encoded (%00-%1f, %7f).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const RAW_CONTROL = /[\u0000-\u001f\u007f]/
const ENCODED_CONTROL = /%(?:[01][0-9a-f]|7f)/i

export interface NormalizedTarget {
  /** Decoded path segments (no empty ones except a trailing-slash marker). */
  segments: string[]
  /** The normalized, re-encoded path that is sent upstream. */
  path: string
  query: Array<[string, string]>
}

/**
 * Validate and normalize a caller's path and query (SPEC §7 step 4-5, §15). Refused before any
 * request: a path not starting with `/` (invalid_request); `//` at the start, `.`/`..` segments
 * in any spelling (`%2e`, double-encoded `%252e`, `..;`, `.;x`), backslashes (raw or `%5c`), encoded slashes
 * (`%2f`) and control characters raw or encoded (policy_violation). `a..b` inside a segment is
 * fine. The query is decoded once (`+` is a space) and re-encoded (RFC 3986).
 */
export function normalizeTarget(raw: string): NormalizedTarget {
  const known = normalized.get(raw)
  if (known) return known
  const target = normalizeUncached(raw)
  if (normalized.size >= MAX_NORMALIZED) normalized.clear()
  normalized.set(raw, target)
  return target
}

/**
 * Normalized targets by raw path: a server sees the same few paths over and over. The result
 * depends on nothing but the text, and is frozen so no caller can change a shared one.
 * Refused paths are not kept (they throw each time).
 */
const normalized = new Map<string, NormalizedTarget>()
const MAX_NORMALIZED = 2000

function normalizeUncached(raw: string): NormalizedTarget {
  if (typeof raw !== 'string' || !raw.startsWith('/')) throw invalid('the path must start with "/"')
  if (raw.startsWith('//')) throw policy('a path may not start with "//" (that names another host)')
  const hashAt = raw.indexOf('#')
  if (hashAt !== -1) throw invalid('the path may not contain a fragment ("#")')
  const queryAt = raw.indexOf('?')
  const rawPath = queryAt === -1 ? raw : raw.slice(0, queryAt)
  const rawQuery = queryAt === -1 ? '' : raw.slice(queryAt + 1)
  if (RAW_CONTROL.test(raw) || ENCODED_CONTROL.test(raw)) throw policy('control characters are not allowed in the path or query')
  if (rawPath.includes('\\') || /%5c/i.test(rawPath)) throw policy('backslashes are not allowed in the path')
  if (/%2f/i.test(rawPath)) throw policy('encoded slashes (%2f) are not allowed in the path')
  if (/%25(2e|2f|5c|25)/i.test(rawPath)) throw policy('double-encoded characters are not allowed in the path')
  const parts = rawPath.split('/').slice(1)
  const segments: string[] = []
  for (const [index, part] of parts.entries()) {
    const segment = decodeOnce(part, 'the path')
    // Whatever spelled the encoding (%252e, %25%32%65, ...), one decoding may not leave an encoded dot, slash or backslash.
    if (/%(2e|2f|5c)/i.test(segment)) throw policy('double-encoded characters are not allowed in the path')
    if (isDotSegment(segment)) throw policy('"." and ".." path segments are not allowed (nor ".;" and "..;", which some servers read as them)')
    if (segment === '' && index !== parts.length - 1) throw policy('empty path segments ("//") are not allowed')
    segments.push(segment)
  }
  const path = '/' + segments.map(encodeSegment).join('/')
  const query = parseQuery(rawQuery).map((pair) => Object.freeze(pair) as [string, string])
  return Object.freeze({segments: Object.freeze(segments.filter((s, i) => s !== '' || i !== segments.length - 1)) as string[], path, query: Object.freeze(query) as Array<[string, string]>})
}

/**
 * A segment a server may resolve as `.` or `..`: the plain ones, and (SPEC §7 step 4,
 * hardened) any whose part before `;` is one, as Tomcat and Spring drop `;` path parameters
 * (`..;`, `.;jsessionid=x`). The segment is already decoded once, so `%2e%2e%3b` is caught too.
 */
function isDotSegment(segment: string): boolean {
  if (segment.charCodeAt(0) !== 46 /* . */) return false
  const semicolon = segment.indexOf(';')
  const head = semicolon === -1 ? segment : segment.slice(0, semicolon)
  return head === '.' || head === '..'
}

export function parseQuery(rawQuery: string): Array<[string, string]> {
  if (rawQuery === '') return []
  return rawQuery
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const at = pair.indexOf('=')
      const key = at === -1 ? pair : pair.slice(0, at)
      const value = at === -1 ? '' : pair.slice(at + 1)
      return [decodeOnce(key.replace(/\+/g, ' '), 'the query'), decodeOnce(value.replace(/\+/g, ' '), 'the query')] as [string, string]
    })
}

export function encodeQuery(query: Array<[string, string]>): string {
  return query.map(([k, v]) => `${encodeRfc3986(k)}=${encodeRfc3986(v)}`).join('&')
}

/** Segment-aware prefix match: `/v1/chat` allows `/v1/chat` and `/v1/chat/x`, never `/v1/chatty`. */
/** Decoded segments of each capability prefix, parsed once: every invocation checks them. */
const prefixSegments = new Map<string, string[]>()

function segmentsOfPrefix(prefix: string): string[] {
  let want = prefixSegments.get(prefix)
  if (!want) {
    want = prefix.split('/').filter((s) => s !== '').map((s) => decodeOnce(s, 'a path prefix'))
    if (prefixSegments.size >= 10_000) prefixSegments.clear()
    prefixSegments.set(prefix, want)
  }
  return want
}

export function pathMatchesPrefix(segments: string[], prefix: string): boolean {
  const want = segmentsOfPrefix(prefix)
  if (want.length > segments.length) return false
  for (let i = 0; i < want.length; i++) if (segments[i] !== want[i]) return false
  return true
}

/** How many segments a prefix has (the longest matching prefix wins). */
export function prefixLength(prefix: string): number {
  return segmentsOfPrefix(prefix).length
}

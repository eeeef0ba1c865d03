/**
 * Host patterns used by the registry, credentials and capabilities: an exact host name, or
 * `*.suffix` where the suffix has at least two labels. A wildcard stands for exactly one
 * extra label: `*.myshopify.com` matches `shop.myshopify.com`, never `myshopify.com` nor
 * `a.b.myshopify.com`. Comparison is case-insensitive and tolerates one trailing dot.
 */

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?'
const EXACT_HOST = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`)
const WILDCARD_HOST = new RegExp(`^\\*\\.${LABEL}(?:\\.${LABEL})+$`)

/** Lower-cases and drops one trailing dot: `API.OpenAI.com.` -> `api.openai.com`. */
export function normalizeHost(host: string): string {
  const lower = host.toLowerCase()
  return lower.endsWith('.') ? lower.slice(0, -1) : lower
}

export function isWildcardPattern(pattern: string): boolean {
  return pattern.startsWith('*.')
}

/** An exact host name (no wildcard, no port), case-insensitive, at most 253 characters. */
export function isValidHost(host: string): boolean {
  const h = normalizeHost(host)
  return h.length > 0 && h.length <= 253 && EXACT_HOST.test(h)
}

/** An exact host, or `*.suffix` with at least two suffix labels (`*.com` is refused). */
export function isValidHostPattern(pattern: string): boolean {
  const p = normalizeHost(pattern)
  if (p.length === 0 || p.length > 253) return false
  return isWildcardPattern(p) ? WILDCARD_HOST.test(p) : EXACT_HOST.test(p)
}

/** Whether `host` (an exact host name) is matched by `pattern`. Invalid patterns match nothing. */
export function matchHostPattern(pattern: string, host: string): boolean {
  if (!isValidHostPattern(pattern) || !isValidHost(host)) return false
  const p = normalizeHost(pattern)
  const h = normalizeHost(host)
  if (!isWildcardPattern(p)) return p === h
  const suffix = p.slice(1) // ".myshopify.com"
  if (!h.endsWith(suffix)) return false
  const label = h.slice(0, h.length - suffix.length)
  return label.length > 0 && !label.includes('.')
}

/**
 * Whether every host `inner` can stand for is also allowed by `outer`: equal patterns, or an
 * exact `inner` host that `outer` matches. A wildcard never covers another wildcard.
 */
export function hostPatternCovers(outer: string, inner: string): boolean {
  if (!isValidHostPattern(outer) || !isValidHostPattern(inner)) return false
  const o = normalizeHost(outer)
  const i = normalizeHost(inner)
  if (o === i) return true
  return !isWildcardPattern(i) && matchHostPattern(o, i)
}

/**
 * The hosts allowed by both lists: for each pair, the narrower pattern when one covers the
 * other. Normalized, de-duplicated, in the order of `a` then `b`.
 * `["shop.myshopify.com"] ∩ ["*.myshopify.com"]` is `["shop.myshopify.com"]`.
 */
export function intersectHostPatterns(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = []
  for (const x of a) {
    for (const y of b) {
      let narrower: string | undefined
      if (hostPatternCovers(x, y)) narrower = y
      else if (hostPatternCovers(y, x)) narrower = x
      if (narrower === undefined) continue
      const n = normalizeHost(narrower)
      if (!out.includes(n)) out.push(n)
    }
  }
  return out
}

/**
 * An IP literal rather than a DNS name: a bracketed IPv6 address, or a name whose last label is
 * all digits (no top-level domain is numeric, so `127.0.0.1`, `127.1` and `2130706433` all are).
 */
export function isIpLiteral(host: string): boolean {
  const h = normalizeHost(host)
  if (h.startsWith('[') && h.endsWith(']')) return true
  return /^[0-9]+$/.test(h.slice(h.lastIndexOf('.') + 1))
}

/** A per-tenant provider names its hosts only as patterns (`*.zendesk.com`): each credential needs its tenant's host. */
export function isPerTenant(patterns: readonly string[]): boolean {
  return patterns.length > 0 && patterns.every(isWildcardPattern)
}

/** The hosts a registry provider's credential uses, given the hosts its record names (SPEC §4, §5). */
export interface NarrowedHosts {
  /** The record's hosts that the provider's patterns allow (normalized), or else the patterns themselves. */
  hosts: string[]
  /** Record hosts the patterns do not allow: never used (a record edited on disk). */
  ignored: string[]
  /** The allowed hosts that name a tenant: matched by a wildcard pattern only, not listed exactly. */
  tenants: string[]
}

export function narrowToPatterns(patterns: readonly string[], recordHosts: readonly string[]): NarrowedHosts {
  const allowed: string[] = []
  const ignored: string[] = []
  for (const host of recordHosts) {
    if (patterns.some((p) => hostPatternCovers(p, host))) {
      const h = normalizeHost(host)
      if (!allowed.includes(h)) allowed.push(h)
    } else {
      ignored.push(host)
    }
  }
  const exact = new Set(patterns.filter((p) => !isWildcardPattern(p)).map(normalizeHost))
  const tenants = allowed.filter((h) => !isWildcardPattern(h) && !exact.has(h))
  return {hosts: allowed.length > 0 ? allowed : patterns.map(normalizeHost), ignored, tenants}
}

/**
 * Why a custom capability may not name `host` (SPEC §6), or undefined when it may: a valid DNS
 * name or `*.suffix` pattern, never a lone wildcard, an IP literal only in a testing vault, and
 * for a registry provider a host its patterns allow.
 */
export function capabilityHostProblem(host: string, rules: {providerPatterns?: readonly string[]; testing: boolean}): string | undefined {
  const h = normalizeHost(host)
  if (h === '*' || h === '*.') return 'a lone wildcard would allow every host'
  if (isIpLiteral(h)) {
    if (!isValidIpLiteral(h)) return 'not a valid IP address'
    if (!rules.testing) return 'an IP literal is only allowed in a vault created with "aivault init --testing"'
  } else if (!isValidHostPattern(h)) {
    return 'not a valid DNS name (or *.suffix pattern with at least two suffix labels)'
  }
  const patterns = rules.providerPatterns
  if (patterns && !patterns.some((p) => hostPatternCovers(p, h))) return `not one of the provider's hosts (${patterns.join(', ')})`
  return undefined
}

function isValidIpLiteral(h: string): boolean {
  // node:net loads here, not with this module: most commands never ask.
  const {isIP} = require('node:net') as typeof import('node:net')
  return h.startsWith('[') ? isIP(h.slice(1, -1)) === 6 : isIP(h) === 4
}

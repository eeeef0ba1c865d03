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

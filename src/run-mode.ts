/**
 * How this process runs, chosen once at start and passed down (Vault, BrokerDeps): a one-shot
 * CLI command pays nothing for reuse it will not see; a long-lived process (aivaultd, serve)
 * answers many calls and keeps what it can between them. Imports nothing, so every layer may
 * use it.
 */
export interface RunMode {
  /** How long a listing of an unchanged record folder may be reused (0: list every time). */
  readonly listingReuseMs: number
  /** How long a checked DNS answer may be reused (0: resolve every time). */
  readonly dnsCacheMs: number
  /** Keep upstream connections open in undici pools (else node:https, one connection per request). */
  readonly pooledConnections: boolean
  /** Commit audit events in groups at most this often; undefined: each event is written before its append returns. */
  readonly auditGroupMs: number | undefined
}

/** A CLI command: everything read fresh, one connection per request, every audit event written at once. */
export const ONE_SHOT: RunMode = Object.freeze({listingReuseMs: 0, dnsCacheMs: 0, pooledConnections: false, auditGroupMs: undefined})

/**
 * aivaultd and `aivault serve`: reuse listings of unchanged folders for up to a second (an
 * in-place edit is seen within it), checked DNS answers for 30 s, keep upstream connections
 * open, and commit audit events in groups at most every `auditGroupMs`.
 */
export function longLivedMode(auditGroupMs: number): RunMode {
  return Object.freeze({listingReuseMs: 1000, dnsCacheMs: 30_000, pooledConnections: true, auditGroupMs})
}

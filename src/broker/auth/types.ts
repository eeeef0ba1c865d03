/**
 * The contract between the broker pipeline and one auth strategy. A strategy is a pure
 * function of its config, the decrypted secret material and the request the broker has already
 * validated; it returns what to add. It never sends anything itself (OAuth's token calls go
 * through the `TokenClient` the pipeline hands it).
 */

/** The request after validation, before auth: what the upstream will receive, minus auth. */
export interface OutgoingRequest {
  /** Upper-case HTTP method. */
  method: string
  /** The effective upstream host (no port). */
  host: string
  port: number
  /** Normalized path, starting with `/`, without the query and without any auth path prefix. */
  path: string
  /** Query pairs, decoded, in request order. */
  query: Array<[string, string]>
  /** Header pairs with lower-case names, in request order (no auth-class headers). */
  headers: Array<[string, string]>
  /** The whole request body (empty when there is none). */
  body: Buffer
}

/** Secret values by template placeholder (`secret`, `key`, `username`, ...), for this request only. */
export interface AuthMaterial {
  values: Record<string, string>
}

export interface AuthInjection {
  headers: Array<[string, string]>
  query: Array<[string, string]>
  /** Prepended to the path (`/bot<token>` for Telegram-style path auth). */
  pathPrefix?: string
  /** A client certificate presented in the TLS handshake (mTLS). */
  tls?: {cert: string; key: string}
  /** Strings that must never appear in planned requests, errors or logs. */
  redact: string[]
}

export const NO_INJECTION: AuthInjection = {headers: [], query: [], redact: []}

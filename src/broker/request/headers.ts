import {AivaultError} from '../../errors'

/** Dropped from caller requests: the broker owns the connection (SPEC §7 step 8). */
// accept-encoding too: responses come back uncompressed, so an echoed secret can be scrubbed.
const RESERVED = new Set([
  'host', 'connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'content-length', 'accept-encoding',
  // expect too: `100-continue` is answered by whoever received the caller's request (serve's
  // HTTP server does), and the pooled client refuses to send it (UND_ERR_NOT_SUPPORTED).
  'expect',
  // (hardened) Headers that make a server or its front proxy re-route or re-interpret the
  // request (another method, another path, another client or host) past the capability's policy.
  'x-http-method-override', 'x-http-method', 'x-method-override', 'x-original-url', 'x-rewrite-url', 'forwarded', 'x-real-ip',
])
const RESERVED_PREFIXES = ['proxy-', 'sec-websocket-', 'x-forwarded-']
/** Never accepted from callers: they carry credentials. */
const AUTH_CLASS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key'])
/** Removed from upstream responses (SPEC §7 step 12). */
const RESPONSE_DROPPED = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'set-cookie', 'set-cookie2', 'authorization', 'proxy-authorization', 'proxy-authenticate', 'cookie', 'x-api-key'])

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
// eslint-disable-next-line no-control-regex -- header values may not carry control characters
const BAD_VALUE = /[\u0000-\u0008\u000a-\u001f\u007f]/

/**
 * Validate caller headers: reserved ones are dropped; auth-class ones and any header the
 * credential injects are refused; duplicates are refused; names must be HTTP tokens and values
 * may not smuggle line breaks.
 */
export function filterRequestHeaders(headers: Array<{name: string; value: string}>, injected: Set<string>): Array<[string, string]> {
  const out: Array<[string, string]> = []
  // (One header cannot be given twice: no Set for it, nor for none, as for most serve passthrough calls.)
  const seen = headers.length > 1 ? new Set<string>() : undefined
  for (const {name, value} of headers) {
    const lower = name.toLowerCase()
    if (!TOKEN.test(name)) throw new AivaultError('invalid_request', `invalid header name ${JSON.stringify(name)}`)
    if (BAD_VALUE.test(value)) throw new AivaultError('policy_violation', `header ${lower} contains control characters`)
    if (AUTH_CLASS.has(lower) || injected.has(lower)) {
      throw new AivaultError('policy_violation', `header ${lower} is set by the broker, never by the caller`, {hint: 'drop it: the credential is injected for you'})
    }
    if (seen?.has(lower)) throw new AivaultError('policy_violation', `header ${lower} is given twice`)
    seen?.add(lower)
    if (RESERVED.has(lower) || hasReservedPrefix(lower)) continue
    out.push([lower, value])
  }
  return out
}

function hasReservedPrefix(lower: string): boolean {
  for (const prefix of RESERVED_PREFIXES) if (lower.startsWith(prefix)) return true
  return false
}

export function isDroppedResponseHeader(name: string, injected: Set<string>): boolean {
  const lower = name.toLowerCase()
  return RESPONSE_DROPPED.has(lower) || lower.startsWith('proxy-') || injected.has(lower)
}

import type {ServerResponse} from 'node:http'

import {AivaultError} from '../errors'

const STATUS: Record<string, number> = {
  token_invalid: 401,
  policy_violation: 403,
  secret_not_accessible: 403,
  capability_not_found: 404,
  credential_not_found: 404,
  not_found: 404,
  secret_not_found: 404,
  credential_ambiguous: 409,
  conflict: 409,
  body_too_large: 413,
  rate_limited: 429,
  invalid_request: 400,
  vault_locked: 423,
  upstream_unreachable: 502,
  oauth_refresh_failed: 502,
  auth_failed: 502,
  upstream_timeout: 504,
}

/**
 * A broker error as a problem document (SPEC §15): its HTTP status and `{type, title, status,
 * code, detail, error: {message, type, code}}`. The `error` member is what the official OpenAI
 * and Anthropic SDKs read, so their exceptions show the broker's message.
 */
export function problemOf(error: unknown): {status: number; body: string} {
  const e = error instanceof AivaultError ? error : new AivaultError('invalid_request', (error as Error)?.message ?? 'request failed')
  const status = STATUS[e.code] ?? 500
  return {status, body: JSON.stringify({type: `https://aivault.dev/errors/${e.code}`, title: e.code.replace(/_/g, ' '), status, code: e.code, detail: e.message, error: {message: e.message, type: e.code, code: e.code}})}
}

/** Broker errors as application/problem+json; a reply already under way is cut off instead. */
export function sendProblem(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const {status, body} = problemOf(error)
  res.writeHead(status, {'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body)})
  res.end(body)
}

/**
 * One error type for every layer. `code` is the stable snake_case identifier of SPEC §0;
 * the base command, the daemon and the HTTP server map it to text, JSON or a frame.
 * Messages must never contain secret material.
 */
export type ErrorCode =
  | 'invalid_request'
  | 'policy_violation'
  | 'capability_not_found'
  | 'credential_not_found'
  | 'credential_ambiguous'
  | 'secret_not_found'
  | 'secret_not_accessible'
  | 'vault_locked'
  | 'vault_unavailable'
  | 'vault_tampered'
  | 'rate_limited'
  | 'body_too_large'
  | 'auth_failed'
  | 'oauth_refresh_failed'
  | 'upstream_unreachable'
  | 'upstream_timeout'
  | 'token_invalid'
  | 'plugin_untrusted'
  | 'conflict'
  | 'not_found'

export class AivaultError extends Error {
  readonly code: ErrorCode
  readonly hint?: string
  /** 1 for anything found while doing the work, 2 for a malformed command line (SPEC §15). */
  readonly exitCode: number

  constructor(code: ErrorCode, message: string, options: {hint?: string; exitCode?: number} = {}) {
    super(message)
    this.name = 'AivaultError'
    this.code = code
    this.hint = options.hint
    this.exitCode = options.exitCode ?? 1
  }
}

/** A malformed command line: exit code 2, judged without reading the vault. */
export function usageError(message: string, hint?: string): AivaultError {
  return new AivaultError('invalid_request', message, {hint, exitCode: 2})
}

export function isAivaultError(error: unknown): error is AivaultError {
  return error instanceof AivaultError
}

/** An error as `--json` prints it on stdout: `{"error": {code, message, hint?}}`. */
export function errorJson(error: AivaultError): string {
  const body: Record<string, string> = {code: error.code, message: error.message}
  if (error.hint) body.hint = error.hint
  return JSON.stringify({error: body}, null, 2) + '\n'
}

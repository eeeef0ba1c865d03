/**
 * The one table of `invoke`'s flags (and `json`, `markdown`, `capability ...`; SPEC §9): names,
 * char aliases, value kinds. invoke-flags.ts builds the oclif flags from it; the thin client
 * (thin-invoke.ts) parses the command line by it without loading oclif, so this module must
 * stay free of heavy imports (it is loaded on every warm `invoke`).
 */
import {MAX_TIMEOUT_MS} from '../limits'

export interface InvokeFlagSpec {
  /** How the value is read: a boolean flag takes none. */
  kind: 'string' | 'integer' | 'boolean'
  char?: 'X' | 'H'
  /** May be given more than once (values collect into a list). */
  multiple?: true
  /** Integer bounds (a value outside is a usage error, exit 2). */
  range?: readonly [number, number]
  exclusive?: readonly string[]
  /** The thin client understands it; any other flag hands the command to the full CLI. */
  thin: boolean
  description: string
}

export const INVOKE_FLAG_TABLE = {
  method: {kind: 'string', char: 'X', thin: true, description: 'HTTP method (defaults when the capability allows exactly one).'},
  path: {kind: 'string', thin: true, description: 'Path and query, e.g. /v1/models?limit=5 (defaults when the capability allows exactly one).'},
  header: {kind: 'string', char: 'H', multiple: true, thin: true, description: 'Request header as NAME=VALUE or curl\'s "Name: value" (repeatable; never auth headers).'},
  body: {kind: 'string', exclusive: ['body-file-path', 'multipart-field', 'multipart-file'], thin: true, description: 'Request body text.'},
  'body-file-path': {kind: 'string', exclusive: ['multipart-field', 'multipart-file'], thin: false, description: 'Read the request body from this file (read by this process).'},
  request: {kind: 'string', exclusive: ['request-file'], thin: false, description: 'A whole envelope, or just its request part, as JSON.'},
  'request-file': {kind: 'string', thin: false, description: 'Read the envelope (or its request part) from this JSON file.'},
  'multipart-field': {kind: 'string', multiple: true, thin: false, description: 'K=V multipart form field (repeatable).'},
  'multipart-file': {kind: 'string', multiple: true, thin: false, description: 'K=PATH multipart file (repeatable; read by this process).'},
  credential: {kind: 'string', thin: true, description: 'Use this credential (else bindings, then scope resolution).'},
  'workspace-id': {kind: 'string', thin: true, description: 'Invoke on behalf of this workspace.'},
  'group-id': {kind: 'string', thin: true, description: 'Invoke on behalf of this group (with --workspace-id).'},
  consumer: {kind: 'string', thin: true, description: 'Name of the calling agent or skill (for bindings and audit).'},
  'client-ip': {kind: 'string', thin: true, description: 'Client address to record in the audit log.'},
  'timeout-ms': {kind: 'integer', range: [1, MAX_TIMEOUT_MS], thin: true, description: 'Upstream timeout in milliseconds (at most 10 minutes).'},
  stream: {kind: 'boolean', thin: true, description: 'Forward the response as it arrives (SSE).'},
  'follow-redirects': {kind: 'boolean', thin: true, description: 'Follow same-host redirects, re-validating each hop.'},
} as const satisfies Record<string, InvokeFlagSpec>

/** `--fail`, kept apart because `invoke`, `json` and `markdown` add it to the table above. */
export const FAIL_FLAG_TABLE = {
  fail: {kind: 'boolean', thin: true, description: 'Exit 22 when the upstream answers HTTP 400 or above (like curl --fail).'},
} as const satisfies Record<string, InvokeFlagSpec>

/**
 * One `--header` value, read the same by the full CLI and the thin client: `NAME=VALUE`, or
 * curl's `Name: value` (spaces after the colon dropped). Whichever of "=" and ":" comes first
 * splits it (a header name holds neither). Undefined when there is no name before it.
 */
export function splitHeaderFlag(raw: string): {name: string; value: string} | undefined {
  const at = raw.search(/[=:]/)
  if (at <= 0) return undefined
  const value = raw.slice(at + 1)
  return {name: raw.slice(0, at), value: raw[at] === ':' ? value.replace(/^[ \t]+/, '') : value}
}

/**
 * The public plugin API: the hook events aivault runs and the payload each receives
 * (SPEC §13 and §15). A plugin declares its hooks the oclif way, in its package.json:
 *
 *   "oclif": {"hooks": {"aivault:before-invoke": "./hooks/before-invoke.js"}}
 *
 * Each hook module's default export (or `module.exports` itself) is an async function that
 * receives the payload. aivault runs the hooks itself, wherever the broker runs (in-process,
 * aivaultd, serve), one at a time, each within a timeout. Nothing here imports anything: plugin
 * authors may copy these types or import them from `aivault/dist/plugins/hooks`.
 */

/** The hook events, by name. */
export const HOOK_EVENTS = ['aivault:before-invoke', 'aivault:after-invoke', 'aivault:provider'] as const
export type HookEvent = (typeof HOOK_EVENTS)[number]

/** Who is calling: the scope of the invocation and, when known, the consumer and client address. */
export interface HookInvocation {
  workspaceId: string | null
  groupId: string | null
  consumer: string | null
  clientIp: string | null
}

/** The capability being invoked, as its provider (or the vault) defines it. */
export interface HookCapability {
  id: string
  provider: string
  /** `plugin` when a provider hook serves it instead of HTTP. */
  transport: 'http' | 'plugin'
}

/**
 * A request as a hook sees it: never with auth. `headers` are the caller's (already checked)
 * headers; a before-invoke hook may add or change non-auth ones in place. `path` is the
 * normalized path without the query; `query` is the decoded query.
 */
export interface HookRequest {
  method: string
  path: string
  query: Array<[string, string]>
  headers: Array<{name: string; value: string}>
  /** The request body (empty when there is none). */
  body: Buffer
}

/** `aivault:before-invoke`: may change non-auth headers in place, or refuse by throwing an Error. */
export interface BeforeInvokePayload {
  request: HookRequest
  capability: HookCapability
  credential: {id: string; provider: string}
  invocation: HookInvocation
}

/** A sanitized response: secrets already scrubbed. An after-invoke hook may replace `body`. */
export interface HookResponse {
  status: number
  headers: Array<[string, string]>
  body: Buffer
}

/** `aivault:after-invoke`: sees the sanitized (whole) response and may change `response.body` in place. */
export interface AfterInvokePayload {
  response: HookResponse
  capability: HookCapability
}

/**
 * `aivault:provider`: serves a `transport: plugin` capability of the plugin's own provider.
 * It receives decrypted secrets, so it runs only for a plugin the operator trusted
 * (`aivault plugins trust <name>`) whose files have not changed since.
 */
export interface ProviderPayload {
  request: HookRequest
  capability: HookCapability
  credential: {
    id: string
    provider: string
    /**
     * The credential's hosts, as the registry and the credential record give them. A provider
     * connects only to servers these or its secrets name, never to one a request names (the
     * postgres plugin uses the server in its secret; its `hosts` entry is a label).
     */
    hosts: string[]
  }
  /** The credential's secrets, decrypted, by placeholder (the values of the provider's `vaultSecrets`). */
  secrets: Record<string, string>
  invocation: HookInvocation
  /** Aborted when the caller goes away or the hook's time is up: stop work and release connections. */
  signal: AbortSignal
  /** How long the hook may take, in milliseconds. */
  timeoutMs: number
}

/** What a provider hook returns: a status, optional headers, and a JSON value or raw bytes. */
export interface ProviderResult {
  status: number
  headers?: Record<string, string>
  /** Sent as `application/json` unless `body` is given. */
  json?: unknown
  body?: Buffer | string
}

export type BeforeInvokeHook = (payload: BeforeInvokePayload) => Promise<void> | void
export type AfterInvokeHook = (payload: AfterInvokePayload) => Promise<void> | void
export type ProviderHook = (payload: ProviderPayload) => Promise<ProviderResult> | ProviderResult

export interface HookPayloads {
  'aivault:before-invoke': BeforeInvokePayload
  'aivault:after-invoke': AfterInvokePayload
  'aivault:provider': ProviderPayload
}

/**
 * The capability.invoke audit event of an invocation, built cheaply: serve writes one per
 * request, so its fixed part is serialized once per route, caller address, method and path.
 */
import type {InvocationContext} from './credential/resolve-credential'
import type {Route} from './route'

/**
 * An audit event's fields: the capability, the caller's context, then `rest`. Built without
 * object spread: V8 (Node 20) makes `{...base, more}` about ten times slower than this.
 */
export function auditFields(capability: string, ctx: InvocationContext, rest: Record<string, unknown>): Record<string, unknown> {
  const fields: Record<string, unknown> = {capability}
  if (ctx.workspaceId) fields.workspaceId = ctx.workspaceId
  if (ctx.groupId) fields.groupId = ctx.groupId
  if (ctx.consumer) fields.consumer = ctx.consumer
  if (ctx.clientIp) fields.clientIp = ctx.clientIp
  return Object.assign(fields, rest)
}

const MAX_EVENT_PREFIXES = 1000

/**
 * A capability.invoke event's fields as JSON: the text JSON.stringify gives for
 * auditFields(capability, ctx, {credential, method, host, path, status, durationMs}). All but
 * the status and duration is fixed per route, caller address, method and path, and is
 * serialized once (the whole event's JSON was the largest single cost of serve's own work).
 */
export function invokeEventJson(route: Route, capability: string, ctx: InvocationContext, request: {method: string; host: string}, path: string, status: number, durationMs: number): string {
  const key = `${ctx.clientIp ?? ''}\0${request.method}\0${path}`
  let prefix = route.eventPrefixes?.get(key)
  if (prefix === undefined) {
    prefix = JSON.stringify(auditFields(capability, ctx, {credential: route.credential.id, method: request.method, host: request.host, path})).slice(0, -1)
    route.eventPrefixes ??= new Map()
    if (route.eventPrefixes.size >= MAX_EVENT_PREFIXES) route.eventPrefixes.clear()
    route.eventPrefixes.set(key, prefix)
  }
  return `${prefix},"status":${status},"durationMs":${durationMs}}`
}

/** The planned URL's path for the audit log: already scrubbed, without its query. */
export function plannedPath(url: string): string {
  // `https://host/...`, or `plugin://provider/...` for a capability a plugin serves.
  const rest = url.slice(url.indexOf('/', url.indexOf('://') + 3))
  const query = rest.indexOf('?')
  return query === -1 ? rest : rest.slice(0, query)
}

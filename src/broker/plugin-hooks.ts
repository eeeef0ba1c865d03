/**
 * The broker's side of plugin hooks (SPEC §13, §15 Plugins): building each payload from the
 * pipeline's state and holding what a hook hands back to the same rules as a caller. A
 * before-invoke hook's headers are checked again (no auth-class or injected header); an
 * after-invoke hook's body and a provider hook's answer are scrubbed of the route's secrets.
 */
import {AivaultError} from '../errors'
import type {PluginHooks} from '../plugins/hook-runner'
import type {HookCapability, HookInvocation, HookRequest, ProviderResult} from '../plugins/hooks'
import type {OutgoingRequest} from './auth/types'
import type {ResolvedCapability} from './credential/capabilities'
import type {InvocationContext} from './credential/resolve-credential'
import type {BrokerDeps} from './deps'
import {filterRequestHeaders, isDroppedResponseHeader} from './request/headers'
import {scrubBytes, scrubHeaderValues} from './response/scrub'
import type {Route} from './route'
import type {CallerSignal} from './upstream/caller-signal'

function hookCapability(capability: ResolvedCapability): HookCapability {
  return {id: capability.id, provider: capability.provider, transport: capability.transport === 'plugin' ? 'plugin' : 'http'}
}

function hookInvocation(ctx: InvocationContext): HookInvocation {
  return {workspaceId: ctx.workspaceId ?? null, groupId: ctx.groupId ?? null, consumer: ctx.consumer ?? null, clientIp: ctx.clientIp ?? null}
}

function hookRequest(request: OutgoingRequest): HookRequest {
  return {
    method: request.method,
    path: request.path,
    query: request.query.map(([name, value]) => [name, value]),
    headers: request.headers.map(([name, value]) => ({name, value})),
    body: request.body,
  }
}

/**
 * Run the before-invoke hooks on a request without auth. They may add or change non-auth
 * headers; what they leave is checked like a caller's headers, naming the plugin hooks.
 */
export async function runBeforeInvoke(hooks: PluginHooks, route: Route, request: OutgoingRequest, ctx: InvocationContext): Promise<void> {
  const payload = {request: hookRequest(request), capability: hookCapability(route.capability), credential: {id: route.credential.id, provider: route.credential.provider}, invocation: hookInvocation(ctx)}
  await hooks.beforeInvoke(payload, (plugin) => {
    const given = Array.isArray(payload.request.headers) ? payload.request.headers : []
    const headers = given.map((h) => ({name: String(h?.name), value: String(h?.value)}))
    try {
      request.headers = filterRequestHeaders(headers, route.injected.headers)
    } catch (error) {
      throw new AivaultError('policy_violation', `plugin ${plugin}'s aivault:before-invoke hook set a header the broker refuses: ${(error as Error).message}`)
    }
    payload.request.headers = request.headers.map(([name, value]) => ({name, value}))
  })
}

/** Run the after-invoke hooks on a sanitized whole body; the body they leave is scrubbed again. */
export async function runAfterInvoke(hooks: PluginHooks, capability: ResolvedCapability, status: number, headers: Array<[string, string]>, body: Buffer, spellings: string[]): Promise<Buffer> {
  const payload = {response: {status, headers: headers.map(([n, v]): [string, string] => [n, v]), body}, capability: hookCapability(capability)}
  await hooks.afterInvoke(payload)
  const changed = payload.response.body as unknown
  const bytes = Buffer.isBuffer(changed) ? changed : typeof changed === 'string' ? Buffer.from(changed) : undefined
  if (!bytes) throw new AivaultError('policy_violation', 'a plugin\'s aivault:after-invoke hook left response.body neither a Buffer nor a string')
  return scrubBytes(bytes, spellings)
}

export interface PluginAnswer {
  status: number
  headers: Array<[string, string]>
  body: Buffer
}

/**
 * Serve a `transport: plugin` capability: its plugin's provider hook gets the request and the
 * credential's decrypted secrets (by placeholder) and answers instead of an HTTP upstream.
 */
export async function invokeProviderHook(
  deps: BrokerDeps,
  route: Route,
  request: OutgoingRequest,
  secrets: Record<string, string>,
  ctx: InvocationContext,
  timeoutMs: number,
  spellings: string[],
  callerSignal?: CallerSignal,
): Promise<PluginAnswer> {
  const plugin = deps.registry.provider(route.capability.provider)?.plugin
  if (!plugin || !deps.hooks) {
    throw new AivaultError('capability_not_found', `${route.capability.id} is served by a plugin that is not installed`, {hint: 'aivault plugins list'})
  }
  const controller = new AbortController()
  const listener = {callerGone: () => controller.abort()}
  callerSignal?.add(listener)
  try {
    const payload = {
      request: hookRequest(request),
      capability: hookCapability(route.capability),
      credential: {id: route.credential.id, provider: route.credential.provider, hosts: [...route.credential.hosts]},
      secrets: {...secrets},
      invocation: hookInvocation(ctx),
      timeoutMs,
    }
    const result = await deps.hooks.provide(plugin, payload, controller.signal)
    return answerOf(result, spellings)
  } finally {
    controller.abort()
    callerSignal?.remove(listener)
  }
}

/** A provider result as a response: JSON unless bytes were given, hop-by-hop headers dropped, secrets scrubbed. */
function answerOf(result: ProviderResult, spellings: string[]): PluginAnswer {
  const headers: Array<[string, string]> = Object.entries(result.headers ?? {})
    .map(([name, value]): [string, string] => [name.toLowerCase(), value])
    .filter(([name]) => name !== 'content-length' && name !== 'content-encoding' && !isDroppedResponseHeader(name, new Set()))
  let body: Buffer
  if (result.body !== undefined) body = Buffer.isBuffer(result.body) ? result.body : Buffer.from(result.body)
  else {
    body = Buffer.from(JSON.stringify(result.json ?? null))
    if (!headers.some(([name]) => name === 'content-type')) headers.push(['content-type', 'application/json'])
  }
  return {status: result.status, headers: scrubHeaderValues(headers, spellings), body: scrubBytes(body, spellings)}
}

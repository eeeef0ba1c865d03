/**
 * The broker pipeline (SPEC §7): envelope -> capability -> credential -> method, path, query,
 * host, SSRF, headers -> policy -> auth injection -> planned request -> upstream -> sanitized
 * response -> audit. The CLI (in-process), aivaultd and `aivault serve` all call `invoke`.
 */
import {Readable} from 'node:stream'

import {AivaultError} from '../errors'
import {prefetchSodium} from '../vault/keys/sodium'
import {verifyBuiltinRegistry} from '../registry/registry'
import {applyAuth} from './auth'
import type {AuthInjection, OutgoingRequest} from './auth/types'
import type {CallerSignal} from './upstream/caller-signal'
import type {BrokerDeps} from './deps'
import type {Envelope} from './request/envelope'
import {encodeBody} from './request/envelope'
import {filterRequestHeaders, isDroppedResponseHeader} from './request/headers'
import {oauthRuntime} from './credential/material'
import {encodeQuery, normalizeTarget, pathMatchesPrefix} from './request/path'
import {checkRequestSize, limitBytes, readResponseBody, readWhole, requestTooLarge, takeRateLimit} from './request/policy'
import type {InvocationContext} from './credential/resolve-credential'
import {applyResponseBlock} from './response/response-policy'
import {errorSpellings, requestSpellings} from './response/request-spellings'
import {codingsOf, decoded, pipeInto} from './response/response-body'
import {responseFilter, scrubBytes, scrubbedError, scrubHeaderValues, scrubText} from './response/scrub'
import {checkedAddressNow, checkUpstreamAddress} from './request/ssrf'
import type {RouteMaterial} from './route'
import {heldMaterial, resolveRoute, routeMaterial, routeUpstream, spellingsWith} from './route'
import {sendUpstream} from './upstream/send'
import {BufferedBody, headerValue} from './upstream/upstream'
import {invokeProviderHook, runAfterInvoke, runBeforeInvoke} from './plugin-hooks'
import {auditFields, invokeEventJson, plannedPath} from './invoke-event'
import {isRedirect, redirectTarget} from './upstream/redirects'

export interface InvokeOptions {
  context: InvocationContext
  /** Forward chunks as they arrive (SSE) unless a response policy needs the whole body. */
  stream?: boolean
  followRedirects?: boolean
  /** Fires when the caller goes away (serve's client, aivaultd's connection): its upstream request ends with it (SPEC §7, hardened). */
  signal?: CallerSignal
}

/** What would be (and was) sent, with every secret redacted. */
export interface PlannedRequest {
  capability: string
  credential: string
  method: string
  url: string
}

export interface BrokerResponse {
  planned: PlannedRequest
  status: number
  headers: Array<[string, string]>
  body: Readable
  /** The whole (scrubbed) body when it is already in memory: callers may send it in one write. */
  bytes?: Buffer
  /** Settles after the body has been consumed and the audit event written. */
  done: Promise<void>
}

/** A response whose whole scrubbed body is in memory. */
class BufferedBrokerResponse extends BufferedBody implements BrokerResponse {
  constructor(
    readonly planned: PlannedRequest,
    readonly status: number,
    readonly headers: Array<[string, string]>,
    readonly done: Promise<void>,
    bytes: Buffer,
  ) {
    super(bytes)
  }
}

const DEFAULT_TIMEOUT_MS = 120_000
const MAX_REDIRECTS = 5

/** What is known so far about an invocation, for its audit event even when it is refused. */
interface AuditFacts {
  method?: string
  credential?: string
  host?: string
}

/** The method when none is given: the only one allowed, or POST for a request with a body when POST is allowed (as curl -d). */
function defaultMethod(methods: string[], request: Envelope['request']): string | undefined {
  if (methods.length === 1) return methods[0]
  const hasBody = request.body !== undefined || request.bodyBase64 !== undefined || request.multipart !== undefined || request.multipartFiles !== undefined
  return hasBody && methods.includes('POST') ? 'POST' : undefined
}

/** Steps 1-9: everything that can be refused before a secret is decrypted. */
function prepare(deps: BrokerDeps, envelope: Envelope, options: InvokeOptions, facts: AuditFacts) {
  let allowed: string[] = []
  const route = resolveRoute(deps, envelope.capability, envelope.credential, options.context, (methods) => {
    allowed = methods
    facts.method = envelope.request.method ?? defaultMethod(methods, envelope.request)
  })
  const {capability, credential, injected} = route
  const method = facts.method
  facts.credential = credential.id
  if (!method) throw new AivaultError('invalid_request', `${capability.id} allows ${allowed.join(', ')}: pass --method`)
  if (!allowed.includes(method)) throw new AivaultError('policy_violation', `${capability.id} does not allow ${method} (allowed: ${allowed.join(', ')})`)
  const rawPath = envelope.request.path ?? (capability.allow.pathPrefixes.length === 1 ? capability.allow.pathPrefixes[0] : undefined)
  if (rawPath === undefined) throw new AivaultError('invalid_request', `${capability.id} allows several paths: pass --path`)
  const target = normalizeTarget(rawPath)
  if (!capability.allow.pathPrefixes.some((prefix) => pathMatchesPrefix(target.segments, prefix))) {
    throw new AivaultError('policy_violation', `${target.path} is outside ${capability.id} (allowed: ${capability.allow.pathPrefixes.join(', ')})`)
  }
  const smuggled = target.query.find(([name]) => injected.query.has(name))
  if (smuggled) throw new AivaultError('policy_violation', `query parameter ${smuggled[0]} is set by the broker, never by the caller`)
  const {host, port} = routeUpstream(route)
  facts.host = host
  const headers = filterRequestHeaders(envelope.request.headers ?? [], injected.headers)
  const {body, contentType} = encodeBody(envelope.request)
  if (contentType) {
    const at = headers.findIndex(([name]) => name === 'content-type')
    if (at !== -1) headers.splice(at, 1)
    headers.push(['content-type', contentType])
  }
  const request: OutgoingRequest = {method, host, port, path: target.path, query: target.query, headers, body}
  return {route, request, timeoutMs: envelope.timeoutMs ?? DEFAULT_TIMEOUT_MS}
}

const NO_AUTH: AuthInjection = {headers: [], query: [], redact: []}

function targetOf(request: OutgoingRequest, auth: AuthInjection): string {
  const path = (auth.pathPrefix ?? '') + request.path
  const query = encodeQuery([...request.query, ...auth.query])
  return query ? `${path}?${query}` : path
}

function urlOf(request: OutgoingRequest, target: string): string {
  return `https://${request.host}${request.port === 443 ? '' : `:${request.port}`}${target}`
}

/** Run one invocation. Refusals and upstream failures throw AivaultError and are audited. */
export async function invoke(deps: BrokerDeps, envelope: Envelope, options: InvokeOptions): Promise<BrokerResponse> {
  const started = Date.now()
  // libsodium compiles its WebAssembly off the main thread: start now, it is needed at step 10.
  prefetchSodium()
  const {vault, mode} = deps
  const facts: AuditFacts = {method: envelope.request.method}
  let planned: PlannedRequest | undefined
  // Once known, no error message may show them (SPEC §7: messages carry no secret material).
  let material: RouteMaterial | undefined
  let spellings: string[] | undefined
  try {
    verifyRegistryOnce(started)
    const {route, request, timeoutMs} = prepare(deps, envelope, options, facts)
    const {capability, credential, policy, overrides} = route
    let streamed = envelope.request.bodyStream
    // Size first (a streamed body's declared length), then the rate limit (a refused request does not use up the budget).
    checkRequestSize(policy, capability.id, streamed?.length ?? request.body.length)
    if (policy.rateLimitPerMinute !== null) await takeRateLimit(vault, policy.rateLimitPerMinute, capability.id)
    const {hooks} = deps
    if (hooks?.has('aivault:before-invoke')) {
      // The hooks see the whole body (a passthrough or upload streams it): read it first.
      if (streamed) request.body = await readWhole(streamed.stream, policy.maxRequestBodyBytes, requestTooLarge(policy, capability.id))
      streamed = undefined
      await runBeforeInvoke(hooks, route, request, options.context)
    }
    const afterHooks = hooks?.has('aivault:after-invoke') ? hooks : undefined
    if (capability.transport === 'plugin') {
      // No HTTP: the provider's plugin answers with the decrypted secrets (trusted plugins only).
      material = heldMaterial(vault, route) ?? (await routeMaterial(vault, route, options.context))
      spellings = requestSpellings(material, [])
      if (streamed) request.body = await readWhole(streamed.stream, policy.maxRequestBodyBytes, requestTooLarge(policy, capability.id))
      planned = {capability: capability.id, credential: credential.id, method: request.method, url: scrubText(`plugin://${capability.provider}${targetOf(request, NO_AUTH)}`, spellings)}
      const answer = await invokeProviderHook(deps, route, request, material.values.values, options.context, timeoutMs, spellings, options.signal)
      let body = withinLimit(answer.body, policy.maxResponseBodyBytes)
      if (policy.responseBlock.length > 0) body = scrubBytes(applyResponseBlock(body, policy.responseBlock, headerValue(answer.headers, 'content-type')), spellings)
      if (afterHooks) body = await runAfterInvoke(afterHooks, capability, answer.status, answer.headers, body, spellings)
      const done = vault.audit.appendJson('capability.invoke', invokeEventJson(route, envelope.capability, options.context, request, plannedPath(planned.url), answer.status, Date.now() - started))
      return new BufferedBrokerResponse(planned, answer.status, answer.headers, done, body)
    }
    // From memory when nothing needs a DNS query, a key or the time (a long-lived process's usual call).
    const address = checkedAddressNow(request.host, request.port, overrides, mode.dnsCacheMs) ?? (await checkUpstreamAddress(request.host, request.port, overrides, mode.dnsCacheMs))
    material = heldMaterial(vault, route) ?? (await routeMaterial(vault, route, options.context))
    const oauth = oauthRuntime(deps, credential, overrides)
    let upload: {stream: Readable; length?: number} | undefined
    if (streamed) {
      // A streamed body goes on as it arrives when the auth does not depend on it; a signature
      // needs it whole, and OAuth's retry or a redirect would send it again.
      const tooLarge = requestTooLarge(policy, capability.id)
      if (material.fixed && !options.followRedirects) {
        upload = {stream: policy.maxRequestBodyBytes === null ? streamed.stream : limitBytes(streamed.stream, policy.maxRequestBodyBytes, tooLarge), length: streamed.length}
      } else {
        request.body = await readWhole(streamed.stream, policy.maxRequestBodyBytes, tooLarge)
      }
    }
    let auth = material.fixed?.auth ?? (await applyAuth(credential.auth, {material: material.values, request, now: new Date(), oauth}))
    let target = targetOf(request, auth)
    spellings = material.fixed?.spellings ?? requestSpellings(material, auth.redact)
    planned = {capability: capability.id, credential: credential.id, method: request.method, url: scrubText(urlOf(request, target), spellings)}
    const send = (method: string, t: string, a: AuthInjection, body: Buffer, streamedBody?: typeof upload) =>
      sendUpstream(mode, {method, host: request.host, port: request.port, target: t, headers: [...request.headers, ['accept-encoding', 'identity'], ...a.headers], body, upload: streamedBody, address, tls: a.tls, timeoutMs, overrides, signal: options.signal})

    let response = await send(request.method, target, auth, request.body, upload)
    if (response.statusCode === 401 && oauth) {
      // SPEC §8: an upstream 401 forces one refresh and one retry.
      response.body.resume()
      const stale = auth.headers.find(([n]) => n === 'authorization')?.[1].replace(/^Bearer /, '')
      const staleAuth = auth
      auth = await applyAuth(credential.auth, {material: material.values, request, now: new Date(), oauth: {...oauth, force: true, staleToken: stale}})
      // Both tokens stay scrubbed: the stale one may still be echoed.
      spellings = spellingsWith(Object.values(material.values.values), [...staleAuth.redact, ...auth.redact])
      response = await send(request.method, target, auth, request.body)
    }
    for (let hop = 0; options.followRedirects && isRedirect(response.statusCode) && hop < MAX_REDIRECTS; hop++) {
      const next = redirectTarget(response, request, auth, capability.allow, spellings)
      response.body.resume()
      const method = response.statusCode === 303 ? 'GET' : request.method
      const body = method === 'GET' ? Buffer.alloc(0) : request.body
      const hopRequest = {...request, method, path: next.path, query: next.query, body}
      auth = await applyAuth(credential.auth, {material: material.values, request: hopRequest, now: new Date(), oauth})
      target = targetOf(hopRequest, auth)
      response = await send(method, target, auth, body)
    }

    const status = response.statusCode
    const headers = responseHeaders(response.headers, route.injected.headers, spellings)
    const audit = () =>
      vault.audit.appendJson('capability.invoke', invokeEventJson(route, envelope.capability, options.context, request, plannedPath((planned as PlannedRequest).url), status, Date.now() - started))
    // Upstreams are asked for identity encoding; one that compresses anyway is decoded, so the
    // secret scrubber and response policies see plain bytes.
    const codings = codingsOf(response)
    let whole = codings.length === 0 && response.bytes !== undefined ? withinLimit(response.bytes, policy.maxResponseBodyBytes) : undefined
    if (whole === undefined && (!options.stream || policy.responseBlock.length > 0 || afterHooks)) {
      whole = await readResponseBody(decoded(response, codings), policy.maxResponseBodyBytes)
    }
    if (whole !== undefined) {
      if (policy.responseBlock.length > 0) whole = applyResponseBlock(whole, policy.responseBlock, headerValue(headers, 'content-type'))
      let bytes = scrubBytes(whole, spellings)
      if (afterHooks) bytes = await runAfterInvoke(afterHooks, capability, status, headers, bytes, spellings)
      // The body is complete: callers may send the bytes in one write.
      return new BufferedBrokerResponse(planned, status, headers, audit(), bytes)
    }
    // Streamed: one transform scrubs and enforces the size limit; an upstream error ends it too.
    const body = pipeInto(decoded(response, codings), responseFilter(spellings, policy.maxResponseBodyBytes))
    return {planned, status, headers, body, done: finished(body).then(audit)}
  } catch (thrown) {
    const error = scrubbedError(thrown, errorSpellings(material, spellings))
    const code = error instanceof AivaultError ? error.code : 'upstream_unreachable'
    const event = (rest: Record<string, unknown>) => auditFields(envelope.capability, options.context, rest)
    if (code === 'secret_not_accessible') await vault.audit.append('access.denied', event({error: code})).catch(() => {})
    if (vault.exists()) {
      const known = Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined))
      await vault.audit.append('capability.invoke', event(Object.assign(known, planned ? {path: plannedPath(planned.url)} : {}, {error: code, durationMs: Date.now() - started}))).catch(() => {})
    }
    throw error
  }
}

let registryVerifiedAt = 0

/** The built-in registry is checked on the first call and then at most once a minute (daemon, serve). */
function verifyRegistryOnce(now: number): void {
  if (now - registryVerifiedAt < 60_000) return
  verifyBuiltinRegistry()
  registryVerifiedAt = now
}

/**
 * What the caller sees: no injected or hop-by-hop headers, no length or encoding (the body is
 * re-framed and decoded), and no secret in any value (SPEC §7 step 12).
 */
function responseHeaders(headers: Array<[string, string]>, injected: Set<string>, spellings: string[]): Array<[string, string]> {
  return scrubHeaderValues(
    headers.filter(([name]) => name !== 'content-encoding' && name !== 'content-length' && !isDroppedResponseHeader(name, injected)),
    spellings,
  )
}

function withinLimit(bytes: Buffer, max: number | null): Buffer {
  if (max !== null && bytes.length > max) throw new AivaultError('body_too_large', `the response exceeds ${max} bytes`)
  return bytes
}

function finished(stream: Readable): Promise<void> {
  return new Promise((resolve) => {
    stream.once('end', resolve)
    stream.once('close', resolve)
    stream.once('error', () => resolve())
  })
}


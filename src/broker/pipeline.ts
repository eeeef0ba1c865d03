/**
 * The broker pipeline (SPEC §7): envelope -> capability -> credential -> method, path, query,
 * host, SSRF, headers -> policy -> auth injection -> planned request -> upstream -> sanitized
 * response -> audit. The CLI (in-process), aivaultd and `aivault serve` all call `invoke`.
 */
import type {IncomingMessage} from 'node:http'
import {PassThrough, Readable} from 'node:stream'
import * as zlib from 'node:zlib'

import {AivaultError} from '../errors'
import {loadSodium} from '../vault/sodium'
import type {Registry} from '../registry/registry'
import {verifyBuiltinRegistry} from '../registry/registry'
import type {Vault} from '../vault/vault'
import {applyAuth, injectedNames} from './auth'
import type {AuthInjection, OutgoingRequest} from './auth/types'
import {findCapability} from './capabilities'
import type {Envelope} from './envelope'
import {encodeBody} from './envelope'
import {filterRequestHeaders, isDroppedResponseHeader} from './headers'
import {effectiveHost} from './hosts'
import {loadMaterial, oauthRuntime} from './material'
import {encodeQuery, normalizeTarget, pathMatchesPrefix} from './path'
import {enforceRequestPolicy, loadPolicy, readResponseBody} from './policy'
import type {InvocationContext, ResolvedCredential} from './resolve-credential'
import {resolveCredential} from './resolve-credential'
import {REDACTED, scrubText, secretScrubber, secretSpellings} from './scrub'
import {checkUpstreamAddress} from './ssrf'
import {readTestOverrides} from './test-mode'
import {sendUpstream} from './upstream'

export interface BrokerDeps {
  vault: Vault
  registry: Registry
  env: NodeJS.ProcessEnv
}

export interface InvokeOptions {
  context: InvocationContext
  /** Forward chunks as they arrive (SSE) unless a response policy needs the whole body. */
  stream?: boolean
  followRedirects?: boolean
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
  /** Settles after the body has been consumed and the audit event written. */
  done: Promise<void>
}

const DEFAULT_TIMEOUT_MS = 120_000
const MAX_REDIRECTS = 5

interface Prepared {
  credential: ResolvedCredential
  request: OutgoingRequest
  injectedHeaders: Set<string>
  injectedQuery: Set<string>
  timeoutMs: number
}

/** What is known so far about an invocation, for its audit event even when it is refused. */
interface AuditFacts {
  method?: string
  credential?: string
  host?: string
}

/** Steps 1-9: everything that can be refused before a secret is decrypted. */
function prepare(deps: BrokerDeps, envelope: Envelope, options: InvokeOptions, overridesAllowPorts: boolean, facts: AuditFacts) {
  const {vault, registry} = deps
  const capability = findCapability(vault, registry, envelope.capability)
  const allowed = capability.allow.methods.map((m) => m.toUpperCase())
  const method = envelope.request.method ?? (allowed.length === 1 ? allowed[0] : undefined)
  facts.method = method
  const credential = resolveCredential(vault, registry, capability, envelope.credential, options.context)
  facts.credential = credential.id
  if (!method) throw new AivaultError('invalid_request', `${capability.id} allows ${allowed.join(', ')}: pass --method`)
  if (!allowed.includes(method)) throw new AivaultError('policy_violation', `${capability.id} does not allow ${method} (allowed: ${allowed.join(', ')})`)
  const rawPath = envelope.request.path ?? (capability.allow.pathPrefixes.length === 1 ? capability.allow.pathPrefixes[0] : undefined)
  if (rawPath === undefined) throw new AivaultError('invalid_request', `${capability.id} allows several paths: pass --path`)
  const target = normalizeTarget(rawPath)
  if (!capability.allow.pathPrefixes.some((prefix) => pathMatchesPrefix(target.segments, prefix))) {
    throw new AivaultError('policy_violation', `${target.path} is outside ${capability.id} (allowed: ${capability.allow.pathPrefixes.join(', ')})`)
  }
  const injected = injectedNames(credential.auth)
  const smuggled = target.query.find(([name]) => injected.query.has(name))
  if (smuggled) throw new AivaultError('policy_violation', `query parameter ${smuggled[0]} is set by the broker, never by the caller`)
  const {host, port} = effectiveHost(credential, capability, overridesAllowPorts)
  facts.host = host
  const headers = filterRequestHeaders(envelope.request.headers ?? [], injected.headers)
  const {body, contentType} = encodeBody(envelope.request)
  if (contentType) {
    const at = headers.findIndex(([name]) => name === 'content-type')
    if (at !== -1) headers.splice(at, 1)
    headers.push(['content-type', contentType])
  }
  const request: OutgoingRequest = {method, host, port, path: target.path, query: target.query, headers, body}
  return {capability, prepared: {credential, request, injectedHeaders: injected.headers, injectedQuery: injected.query, timeoutMs: envelope.timeoutMs ?? DEFAULT_TIMEOUT_MS} as Prepared}
}

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
  void loadSodium().catch(() => {})
  const {vault} = deps
  const auditBase = {capability: envelope.capability, ...contextFields(options.context)}
  const facts: AuditFacts = {method: envelope.request.method}
  let planned: PlannedRequest | undefined
  try {
    verifyRegistryOnce()
    const testing = vault.exists() ? vault.config().testing : false
    const overrides = overridesFor(deps.env, testing)
    const {capability, prepared} = prepare(deps, envelope, options, overrides.allowNonDefaultPorts, facts)
    const {credential, request} = prepared
    const policy = loadPolicy(vault, capability.id)
    await enforceRequestPolicy(vault, policy, capability.id, request.body.length)
    const address = await checkUpstreamAddress(request.host, request.port, overrides)

    const material = await loadMaterial(vault, credential, options.context)
    const oauth = oauthRuntime(vault, credential, overrides)
    let auth = await applyAuth(credential.auth, {material, request, now: new Date(), oauth})
    let target = targetOf(request, auth)
    const secrets = [...Object.values(material.values), ...auth.redact]
    const spellings = secretSpellings(secrets)
    planned = {capability: capability.id, credential: credential.id, method: request.method, url: scrubText(urlOf(request, target), spellings)}
    const send = (method: string, t: string, a: AuthInjection, body: Buffer) =>
      sendUpstream({method, host: request.host, port: request.port, target: t, headers: [...request.headers, ['accept-encoding', 'identity'], ...a.headers], body, address, tls: a.tls, timeoutMs: prepared.timeoutMs, overrides})

    let response = await send(request.method, target, auth, request.body)
    if (response.statusCode === 401 && oauth) {
      // SPEC §8: an upstream 401 forces one refresh and one retry.
      response.resume()
      const stale = auth.headers.find(([n]) => n === 'authorization')?.[1].replace(/^Bearer /, '')
      auth = await applyAuth(credential.auth, {material, request, now: new Date(), oauth: {...oauth, force: true, staleToken: stale}})
      spellings.push(...secretSpellings(auth.redact))
      response = await send(request.method, target, auth, request.body)
    }
    for (let hop = 0; options.followRedirects && isRedirect(response.statusCode) && hop < MAX_REDIRECTS; hop++) {
      const next = redirectTarget(response, request, capability.allow.pathPrefixes, capability.allow.methods)
      response.resume()
      const method = response.statusCode === 303 ? 'GET' : request.method
      const body = method === 'GET' ? Buffer.alloc(0) : request.body
      const hopRequest = {...request, method, path: next.path, query: next.query, body}
      auth = await applyAuth(credential.auth, {material, request: hopRequest, now: new Date(), oauth})
      target = targetOf(hopRequest, auth)
      response = await send(method, target, auth, body)
    }

    const status = response.statusCode ?? 502
    const headers = responseHeaders(response, prepared.injectedHeaders).filter(([name]) => name !== 'content-encoding' && name !== 'content-length')
    // Upstreams are asked for identity encoding; one that compresses anyway is decoded, so the
    // secret scrubber and response policies see plain bytes.
    response = decoded(response)
    const needsWholeBody = !options.stream || policy.responseBlock.length > 0
    let body: Readable
    if (needsWholeBody) {
      const bytes = await readResponseBody(response, policy, headers)
      body = Readable.from([Buffer.from(scrubText(bytes.toString('latin1'), spellings.map((s) => Buffer.from(s).toString('latin1'))), 'latin1')])
    } else {
      body = response.pipe(secretScrubber(spellings)).pipe(limitStream(policy.maxResponseBodyBytes))
    }
    const done = finished(body).then(() =>
      vault.audit.append('capability.invoke', {...auditBase, credential: credential.id, method: request.method, host: request.host, path: redactedPath(planned as PlannedRequest), status, durationMs: Date.now() - started}),
    )
    return {planned, status, headers, body, done}
  } catch (error) {
    const code = error instanceof AivaultError ? error.code : 'upstream_unreachable'
    if (code === 'secret_not_accessible') await vault.audit.append('access.denied', {...auditBase, error: code}).catch(() => {})
    if (vault.exists()) {
      const known = Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined))
      await vault.audit.append('capability.invoke', {...auditBase, ...known, ...(planned ? {path: redactedPath(planned)} : {}), error: code, durationMs: Date.now() - started}).catch(() => {})
    }
    throw error
  }
}

const overridesCache = new WeakMap<NodeJS.ProcessEnv, {testing: boolean; value: ReturnType<typeof readTestOverrides>}>()

/** The test overrides of an environment, parsed once (a long-lived process keeps its env). */
function overridesFor(env: NodeJS.ProcessEnv, testing: boolean): ReturnType<typeof readTestOverrides> {
  const cached = overridesCache.get(env)
  if (cached && cached.testing === testing) return cached.value
  const value = readTestOverrides(env, testing)
  overridesCache.set(env, {testing, value})
  return value
}

let registryVerifiedAt = 0

/** The built-in registry is checked on the first call and then at most once a minute (daemon, serve). */
function verifyRegistryOnce(): void {
  if (Date.now() - registryVerifiedAt < 60_000) return
  verifyBuiltinRegistry()
  registryVerifiedAt = Date.now()
}

function contextFields(ctx: InvocationContext): Record<string, string> {
  const out: Record<string, string> = {}
  if (ctx.workspaceId) out.workspaceId = ctx.workspaceId
  if (ctx.groupId) out.groupId = ctx.groupId
  if (ctx.consumer) out.consumer = ctx.consumer
  if (ctx.clientIp) out.clientIp = ctx.clientIp
  return out
}

function redactedPath(planned: PlannedRequest): string {
  const url = new URL(planned.url.replace(REDACTED, 'REDACTED'))
  return url.pathname.replace('REDACTED', REDACTED)
}

function isRedirect(status: number | undefined): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308
}

/** A redirect is followed only to the same host, re-validated like the original request. */
function redirectTarget(response: IncomingMessage, request: OutgoingRequest, prefixes: string[], methods: string[]) {
  const location = response.headers.location
  if (!location) throw new AivaultError('upstream_unreachable', `${request.host} redirected without a Location`)
  const base = `https://${request.host}${request.port === 443 ? '' : `:${request.port}`}/`
  const url = new URL(location, base)
  const port = url.port === '' ? 443 : Number(url.port)
  if (url.protocol !== 'https:' || url.hostname.toLowerCase() !== request.host.toLowerCase() || port !== request.port) {
    throw new AivaultError('policy_violation', `refusing a redirect to another host (${url.protocol}//${url.host})`)
  }
  const next = normalizeTarget(url.pathname + url.search)
  if (!prefixes.some((p) => pathMatchesPrefix(next.segments, p))) throw new AivaultError('policy_violation', `refusing a redirect outside the capability (${next.path})`)
  if (!methods.map((m) => m.toUpperCase()).includes(response.statusCode === 303 ? 'GET' : request.method)) {
    throw new AivaultError('policy_violation', 'refusing a redirect that changes to a method the capability does not allow')
  }
  return next
}

function responseHeaders(response: IncomingMessage, injected: Set<string>): Array<[string, string]> {
  const out: Array<[string, string]> = []
  const raw = response.rawHeaders
  for (let i = 0; i < raw.length; i += 2) {
    if (!isDroppedResponseHeader(raw[i], injected)) out.push([raw[i].toLowerCase(), raw[i + 1]])
  }
  return out
}

function decoded(response: IncomingMessage): IncomingMessage {
  const encoding = String(response.headers['content-encoding'] ?? 'identity').toLowerCase().trim()
  if (encoding === 'identity' || encoding === '') return response
  const decoder = encoding === 'gzip' || encoding === 'x-gzip' ? zlib.createGunzip() : encoding === 'deflate' ? zlib.createInflate() : encoding === 'br' ? zlib.createBrotliDecompress() : undefined
  if (!decoder) {
    response.resume()
    throw new AivaultError('policy_violation', `the upstream answered with content-encoding ${encoding}, which the broker cannot inspect`)
  }
  response.on('error', (error) => decoder.destroy(error))
  return Object.assign(response.pipe(decoder), {statusCode: response.statusCode, headers: response.headers}) as unknown as IncomingMessage
}

function limitStream(max: number | null): PassThrough {
  let seen = 0
  const out = new PassThrough({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length
      if (max !== null && seen > max) return callback(new AivaultError('body_too_large', `the response exceeds ${max} bytes`))
      callback(null, chunk)
    },
  } as ConstructorParameters<typeof PassThrough>[0])
  return out
}

function finished(stream: Readable): Promise<void> {
  return new Promise((resolve) => {
    stream.once('end', resolve)
    stream.once('close', resolve)
    stream.once('error', () => resolve())
  })
}


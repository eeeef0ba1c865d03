import * as http from 'node:http'
import type {AddressInfo} from 'node:net'

import {CallerSignal} from '../broker/upstream/caller-signal'
import {findCapability} from '../broker/credential/capabilities'
import type {Envelope, StreamedBody} from '../broker/request/envelope'
import {parseEnvelope} from '../broker/request/envelope'
import {encodeQuery, normalizeTarget, pathMatchesPrefix, prefixLength} from '../broker/request/path'
import type {BrokerDeps} from '../broker/deps'
import type {BrokerResponse} from '../broker/pipeline'
import {invoke} from '../broker/pipeline'
import {limitBytes, readWhole} from '../broker/request/policy'
import type {Refusal} from '../broker/request/refusals'
import {auditRefusal} from '../broker/request/refusals'
import type {InvocationContext} from '../broker/credential/resolve-credential'
import {AivaultError} from '../errors'
import {recordsVersion} from '../vault/store/stat-cache'
import {VersionedMemo} from '../versioned-memo'
import {AccessRefusal, authorize} from './access'
import {serveMcpRequest} from './mcp-route'
import {sendProblem} from './problem'
import type {ProxyToken} from './proxy-tokens'
import {checkToken, knownTokenId} from './proxy-tokens'
import {bearerOf, decodeCredentialId, forwardedHeaders, isLoopback, splitPassthrough, tokenFrom} from './request-parts'

export interface ServeOptions {
  host: string
  port: number
  allowRemote: boolean
  maxRequestBytes?: number
}

const MAX_REQUEST_BYTES = 64 << 20

const tooLargeFor = (max: number) => () => new AivaultError('body_too_large', `the request body exceeds ${max} bytes`)

/**
 * The caller's body as it arrives, within this server's limit; undefined when there is none
 * (HTTP/1.1: neither header, as for most GETs, or a declared length of 0).
 */
function streamedBody(req: http.IncomingMessage, max: number): StreamedBody | undefined {
  const declared = req.headers['content-length']
  if (declared === undefined && req.headers['transfer-encoding'] === undefined) return undefined
  const length = declared === undefined ? undefined : Number(declared)
  if (length === 0) return undefined
  const tooLarge = tooLargeFor(max)
  if (length !== undefined && length > max) throw tooLarge()
  return {stream: limitBytes(req, max, tooLarge), length}
}

/** The body of POST /aivault/proxy as JSON, within this server's limit. */
async function readEnvelopeJson(req: http.IncomingMessage, max: number): Promise<unknown> {
  try {
    return JSON.parse((await readWhole(req, max, tooLargeFor(max))).toString('utf8'))
  } catch (error) {
    if (error instanceof AivaultError) throw error
    throw new AivaultError('invalid_request', 'the body must be a JSON envelope')
  }
}

/**
 * Fires when the caller goes away before its answer is complete (its connection closes), so
 * the upstream request, or the body still streaming from it, ends too (SPEC §7, hardened).
 */
function untilCallerGone(res: http.ServerResponse): CallerSignal {
  const signal = new CallerSignal()
  // (The envelope route reads the whole body first: the caller may have left meanwhile.)
  // (on, not once: 'close' comes once, and once wraps the listener in two more objects.)
  if (!res.socket || res.socket.destroyed) signal.abort()
  else res.on('close', () => res.writableFinished || signal.abort())
  return signal
}

function contextOf(token: ProxyToken, req: http.IncomingMessage): InvocationContext {
  return {workspaceId: token.workspaceId ?? undefined, groupId: token.groupId ?? undefined, consumer: token.consumer ?? undefined, clientIp: req.socket.remoteAddress}
}

/**
 * `aivault serve`: the broker behind a loopback HTTP server (SPEC §10). `POST /aivault/proxy`
 * takes an envelope; `/v/<credential>/<path>` lets an SDK work by changing its base URL. The
 * proxy token comes where the SDK puts its key and is removed before anything goes upstream.
 */
export function createBrokerServer(deps: BrokerDeps, options: ServeOptions): http.Server {
  const max = options.maxRequestBytes ?? MAX_REQUEST_BYTES
  return http.createServer((req, res) => {
    // The usual call takes no promise of its own until the upstream is asked: a refusal is thrown
    // at once, a failure after that rejects.
    let answered: Promise<void> | undefined
    try {
      answered = handle(req, res)
    } catch (error) {
      void refuse(req, res, error)
      return
    }
    answered?.catch((error) => sendProblem(res, error))
  })

  /**
   * A request refused before the broker ran: one audit event (SPEC §15 Audit), then the
   * problem. (The broker audits its own refusals.) Only refusals pay for this.
   */
  function refuse(req: http.IncomingMessage, res: http.ServerResponse, error: unknown): Promise<void> {
    return auditRefusal(deps.vault, refusalOf(req, error), error)
      .catch(reportAuditFailure)
      .then(() => sendProblem(res, error))
  }

  /**
   * The event of a refusal: access.denied when it came before a valid token or is about
   * access (a remote client, the token's scope); capability.invoke with the error when a
   * valid token's request was refused for what it asks. Names the token's id, never the token.
   */
  function refusalOf(req: http.IncomingMessage, error: unknown): Refusal {
    const rawPath = (req.url ?? '/').split('?', 1)[0]
    const passthrough = splitPassthrough(rawPath)
    let presented: string | undefined
    let credential: string | undefined
    try {
      // (Dot segments resolve here: only the query is used, for a token in it.)
      presented = passthrough ? tokenFrom(req.headers, new URL(req.url ?? '/', 'http://aivault.local')) : bearerOf(req.headers)
      credential = passthrough ? decodeCredentialId(passthrough.segment) : undefined
    } catch {
      // An unreadable target: the event says what is known.
    }
    let token: ProxyToken | undefined
    try {
      token = checkToken(deps.vault, presented)
    } catch {
      token = undefined
    }
    const access = token === undefined || error instanceof AccessRefusal
    return {
      kind: access ? 'access.denied' : 'capability.invoke',
      via: access ? 'serve' : undefined,
      capability: error instanceof AccessRefusal ? error.capability : undefined,
      credential,
      method: req.method,
      tokenId: token?.id ?? knownTokenId(deps.vault, presented),
      context: token ? contextOf(token, req) : {clientIp: req.socket.remoteAddress},
    }
  }

  function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> | undefined {
    if (!options.allowRemote && !isLoopback(req.socket.remoteAddress)) {
      throw new AccessRefusal('only loopback clients may use this server', undefined, 'start it with --allow-remote')
    }
    // The raw path is kept: URL parsing would resolve "..", and the broker must see it to refuse it.
    const rawUrl = req.url ?? '/'
    const queryAt = rawUrl.indexOf('?')
    const rawPath = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt)
    const url = queryAt === -1 ? undefined : new URL(`/?${rawUrl.slice(queryAt + 1)}`, 'http://aivault.local')
    if (rawPath === '/aivault/health' && req.method === 'GET') {
      res.writeHead(200, {'content-type': 'application/json'})
      res.end(JSON.stringify({ok: true}))
      return undefined
    }
    if (rawPath === '/aivault/proxy' && req.method === 'POST') return handleEnvelope(req, res)
    if (rawPath === '/mcp') return handleMcp(req, res, url)
    const passthrough = splitPassthrough(rawPath)
    if (passthrough) return handlePassthrough(req, res, url, decodeCredentialId(passthrough.segment), passthrough.rest)
    throw new AivaultError('not_found', `no route ${req.method} ${rawPath}`)
  }

  async function handleEnvelope(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let token: ProxyToken
    let envelope: Envelope
    try {
      token = checkToken(deps.vault, bearerOf(req.headers))
      envelope = parseEnvelope(await readEnvelopeJson(req, max))
      authorize(token, envelope)
    } catch (error) {
      return refuse(req, res, error)
    }
    relay(res, await invoke(deps, envelope, {context: contextOf(token, req), stream: true, signal: untilCallerGone(res)}))
  }

  /** MCP's streamable HTTP transport (mcp-route.ts): the token's capabilities are the tools. */
  async function handleMcp(req: http.IncomingMessage, res: http.ServerResponse, url: URL | undefined): Promise<void> {
    let token: ProxyToken
    try {
      token = checkToken(deps.vault, bearerOf(req.headers))
    } catch (error) {
      return refuse(req, res, error)
    }
    await serveMcpRequest(deps, req, res, {token, context: contextOf(token, req), toolPerCapability: url?.searchParams.get('tools') === 'per-capability', maxRequestBytes: max})
  }

  function handlePassthrough(req: http.IncomingMessage, res: http.ServerResponse, url: URL | undefined, credentialId: string, rawPath: string): undefined {
    const token = checkToken(deps.vault, tokenFrom(req.headers, url))
    const credential = deps.vault.credentials.find(credentialId)
    if (!credential) throw new AivaultError('credential_not_found', `no credential ${credentialId}`)
    const method = (req.method ?? 'GET').toUpperCase()
    // The token travels where the SDK puts its key: strip it from the query too.
    const query = url ? [...url.searchParams].filter(([, value]) => !value.startsWith('avp_')) : []
    const target = normalizeTarget(rawPath + (query.length > 0 ? `?${encodeQuery(query)}` : ''))
    const capability = matchCapability(deps, credential.provider, method, target, token)
    // Streamed both ways: the body goes upstream as it arrives (unless the auth must sign it).
    const envelope: Envelope = {
      capability,
      credential: credentialId,
      request: {method, path: target.path + (target.query.length > 0 ? `?${encodeQuery(target.query)}` : ''), headers: forwardedHeaders(req.headers), bodyStream: streamedBody(req, max)},
    }
    authorize(token, envelope)
    // One promise for the answer or its failure (handle's caller adds none for undefined).
    invoke(deps, envelope, {context: contextOf(token, req), stream: true, signal: untilCallerGone(res)}).then(
      (result) => relayOrProblem(res, result),
      (error) => sendProblem(res, error),
    )
    return undefined
  }
}

interface Candidate {
  id: string
  methods: string[]
  pathPrefixes: string[]
}

/** A provider's capabilities with upper-case methods, kept while the vault's records are unchanged. */
const candidatesByProvider = new VersionedMemo<Candidate[]>(recordsVersion)

function candidatesOf(deps: BrokerDeps, provider: string): Candidate[] {
  return candidatesByProvider.get(provider, () => {
    const custom = deps.vault.capabilities.list().records.filter((c) => c.provider === provider).map((c) => findCapability(deps.vault, deps.registry, c.id))
    return [...deps.registry.capabilitiesOf(provider), ...custom].map((c) => ({id: c.id, methods: c.allow.methods.map((m) => m.toUpperCase()), pathPrefixes: c.allow.pathPrefixes}))
  })
}

/** A capability that allows a method and path, and the length of its longest prefix that matched. */
interface Match {
  id: string
  length: number
}

/** Per provider, method and path: the capabilities that allow it, longest prefix first. */
const matchesByCall = new VersionedMemo<Match[]>(recordsVersion)

function matchesOf(deps: BrokerDeps, provider: string, method: string, target: {path: string; segments: string[]}): Match[] {
  return matchesByCall.get(`${provider} ${method} ${target.path}`, () => {
    const matches: Match[] = []
    for (const capability of candidatesOf(deps, provider)) {
      if (!capability.methods.includes(method)) continue
      let length = -1
      for (const prefix of capability.pathPrefixes) {
        if (pathMatchesPrefix(target.segments, prefix)) length = Math.max(length, prefixLength(prefix))
      }
      if (length >= 0) matches.push({id: capability.id, length})
    }
    return matches.sort((a, b) => b.length - a.length)
  })
}

/** The capability of the provider that allows this method and path: the longest prefix wins, and among equals one the token covers. */
function matchCapability(deps: BrokerDeps, provider: string, method: string, target: {path: string; segments: string[]}, token: ProxyToken): string {
  const matches = matchesOf(deps, provider, method, target)
  if (matches.length === 0) throw new AivaultError('policy_violation', `no ${provider} capability allows ${method} ${target.path}`)
  for (const match of matches) {
    if (match.length < matches[0].length) break
    if (token.capabilities.includes(match.id)) return match.id
  }
  return matches[0].id
}

let auditWarnedAt = 0

/** The answer has gone; a failed audit write is reported on stderr (at most once a minute). */
function reportAuditFailure(error: Error): void {
  if (Date.now() - auditWarnedAt < 60_000) return
  auditWarnedAt = Date.now()
  process.stderr.write(`aivault serve: could not write the audit log: ${error.message}\n`)
}

/** relay, and a failure to start the answer (a header Node refuses) answered as a problem. */
function relayOrProblem(res: http.ServerResponse, result: BrokerResponse): void {
  try {
    relay(res, result)
  } catch (error) {
    sendProblem(res, error)
  }
}

/** The last audit promise given a handler: the calls of one audit group share their group's promise. */
let watchedDone: Promise<void> | undefined

function relay(res: http.ServerResponse, result: BrokerResponse): void {
  // One handler per promise is enough; one per call kept a promise and a reaction per call
  // alive until its group was written.
  if (result.done !== watchedDone) {
    watchedDone = result.done
    result.done.catch(reportAuditFailure)
  }
  const head: string[] = []
  for (const [name, value] of result.headers) head.push(name, value)
  // (A HEAD answer has no body, and its true length is unknown here: no content-length.)
  if (result.bytes && res.req.method !== 'HEAD') {
    // The whole scrubbed body is known: one write, with its length.
    head.push('content-length', String(result.bytes.length))
    res.writeHead(result.status, head)
    res.end(result.bytes)
    return
  }
  // Scrubbing can change the length, so a streamed body is sent chunked.
  res.writeHead(result.status, head)
  result.body.on('error', () => res.destroy())
  result.body.pipe(res)
}

export function listen(server: http.Server, options: ServeOptions): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => resolve(server.address() as AddressInfo))
  })
}

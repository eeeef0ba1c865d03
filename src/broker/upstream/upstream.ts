import * as https from 'node:https'
import {Readable} from 'node:stream'
import * as tls from 'node:tls'

import {AivaultError} from '../../errors'
import type {CallerSignal} from './caller-signal'
import type {CheckedAddress} from '../request/ssrf'
import type {TestOverrides} from '../request/test-mode'

export interface UpstreamRequest {
  method: string
  host: string
  port: number
  /** Path and query as sent (auth included). */
  target: string
  headers: Array<[string, string]>
  body: Buffer
  /** A body sent as it arrives instead of `body` (serve's passthrough); without a length it goes chunked. */
  upload?: {stream: Readable; length?: number}
  address: CheckedAddress
  tls?: {cert: string; key: string}
  timeoutMs: number
  overrides: TestOverrides
  /** Fires when the caller goes away (SPEC §7, hardened): the request, or the body still arriving, ends at once and frees its connection. */
  signal?: CallerSignal
}

/** An upstream answer, the same whichever client sent the request. */
export interface UpstreamResponse {
  statusCode: number
  /** Lower-case names in the order received; repeated headers stay separate. */
  headers: Array<[string, string]>
  body: Readable
  /** The whole body, when it was small enough to be collected before answering. */
  bytes?: Buffer
}

/**
 * A body already whole in memory: `bytes`, and a `body` stream of them made only if something
 * reads it (a class, not a per-call getter, so every answer has the same shape).
 */
export class BufferedBody {
  private stream?: Readable
  constructor(readonly bytes: Buffer) {}

  get body(): Readable {
    this.stream ??= Readable.from([this.bytes])
    return this.stream
  }
}

/** An upstream answer collected whole. */
export class BufferedUpstreamResponse extends BufferedBody implements UpstreamResponse {
  constructor(
    readonly statusCode: number,
    readonly headers: Array<[string, string]>,
    bytes: Buffer,
  ) {
    super(bytes)
  }
}

/** The first value of a header, or undefined. */
export function headerValue(headers: Array<[string, string]>, name: string): string | undefined {
  for (const [n, v] of headers) if (n === name) return v
  return undefined
}

/**
 * The dev CA (test mode) is the only trust anchor for hosts pinned by AIVAULT_DEV_RESOLVE;
 * other hosts keep the system roots (plus the dev CA). Building a context from every root
 * certificate costs ~100 ms, so the pinned case avoids it.
 */
export function trustFor(request: UpstreamRequest): string[] | undefined {
  const {caCert, resolve} = request.overrides
  if (!caCert) return undefined
  return resolve.has(request.host.toLowerCase()) ? [caCert] : [...tls.rootCertificates, caCert]
}

/** SNI is the host name; an IP literal gets none. */
export function serverNameOf(host: string): string | undefined {
  return /^[\d.]+$|:/.test(host) ? undefined : host
}

export function hostHeaderOf(request: UpstreamRequest): string {
  return request.port === 443 ? request.host : `${request.host}:${request.port}`
}

/** The content-length to send: a streamed body's declared one (none: chunked), else the body's own where needed. */
export function contentLengthOf(request: UpstreamRequest): string | undefined {
  if (request.upload) return request.upload.length === undefined ? undefined : String(request.upload.length)
  return request.body.length > 0 || !['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(request.method) ? String(request.body.length) : undefined
}

export function unreachable(request: UpstreamRequest, error: Error & {code?: string}): AivaultError {
  if (error instanceof AivaultError) return error
  return new AivaultError('upstream_unreachable', `${request.host}: ${error.code ?? error.message}`)
}

/** Why an upstream request ended early when its caller went away (this only reaches the audit log). */
export function callerGone(request: UpstreamRequest): AivaultError {
  return new AivaultError('upstream_unreachable', `the caller went away: the request to ${request.host} was aborted`)
}

export function timedOut(request: UpstreamRequest, phase: 'answer' | 'stall'): AivaultError {
  return new AivaultError('upstream_timeout', phase === 'answer' ? `${request.host} did not answer within ${request.timeoutMs} ms` : `${request.host} stalled for ${request.timeoutMs} ms`)
}

/** One-shot processes: node:https, one connection per request, let go afterwards (see send.ts). */
export function sendOnce(request: UpstreamRequest): Promise<UpstreamResponse> {
  const {address, signal} = request
  if (signal?.aborted) return Promise.reject(callerGone(request))
  const headers: Record<string, string | string[]> = {host: hostHeaderOf(request)}
  for (const [name, value] of request.headers) {
    const existing = headers[name]
    headers[name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value]
  }
  const length = contentLengthOf(request)
  if (length !== undefined) headers['content-length'] = length
  return new Promise((resolve, reject) => {
    // Straight to the checked address (no DNS); the host name goes in SNI, the certificate
    // check and the Host header. (An address literal also spares net.isIP its IPv6 pattern,
    // ~5 ms to compile on first use.)
    const req = https.request({
      host: address.address,
      port: address.port,
      method: request.method,
      path: request.target,
      headers,
      servername: serverNameOf(request.host),
      agent: false,
      ca: trustFor(request),
      cert: request.tls?.cert,
      key: request.tls?.key,
    })
    const timer = setTimeout(() => req.destroy(timedOut(request, 'answer')), request.timeoutMs)
    if (signal) {
      // Destroying the request ends its response stream too, and closes the socket.
      const listener = {callerGone: () => req.destroy(callerGone(request))}
      signal.add(listener)
      req.once('close', () => signal.remove(listener))
    }
    req.once('response', (response) => {
      clearTimeout(timer)
      // Then an idle limit between body chunks, so a stalled stream still ends.
      response.socket.setTimeout(request.timeoutMs, () => response.destroy(timedOut(request, 'stall')))
      const pairs: Array<[string, string]> = []
      const raw = response.rawHeaders
      for (let i = 0; i < raw.length; i += 2) pairs.push([raw[i].toLowerCase(), raw[i + 1]])
      resolve({statusCode: response.statusCode ?? 502, headers: pairs, body: response})
    })
    req.once('error', (error: Error & {code?: string}) => {
      clearTimeout(timer)
      reject(unreachable(request, error))
    })
    if (request.upload) {
      request.upload.stream.once('error', (error) => req.destroy(error))
      request.upload.stream.pipe(req)
    } else if (request.body.length > 0) req.end(request.body)
    else req.end()
  })
}

import {Readable} from 'node:stream'
import type {Dispatcher, Pool} from 'undici'

import type {CallerGoneListener} from './caller-signal'
import type {UpstreamRequest, UpstreamResponse} from './upstream'
import {BufferedUpstreamResponse, callerGone, contentLengthOf, hostHeaderOf, serverNameOf, timedOut, trustFor, unreachable} from './upstream'

/**
 * Keep-alive connections for long-lived processes (aivaultd, serve): one undici pool per
 * checked address, host name, test overrides (trust) and client certificate, so a connection
 * is only ever reused for exactly the peer and identity it was opened for.
 *
 * A pool has no cap on its connections (undici's `connections: null`). With a cap, the calls
 * beyond it wait in one queue that every caller shares, so one caller holding that many slow
 * or stalled requests makes everyone else's calls wait (SPEC §7, hardened: one caller cannot
 * exhaust the pool for others). Without one, a call finds an idle connection or opens its own,
 * and what bounds the number of connections is the callers themselves: every upstream request
 * belongs to one live caller request, is aborted as soon as that caller goes away (its
 * `signal`: serve's client socket, aivaultd's client connection) and ends at its timeout (at
 * most 10 minutes); idle connections close after 30 s.
 */
interface PoolEntry {
  address: string
  port: number
  overrides: UpstreamRequest['overrides']
  cert: string | undefined
  pool: Pool
}

/** By host name; a host has one entry per address and identity (compared as they are, no key strings). */
const pools = new Map<string, PoolEntry[]>()

/** Answers up to this size with a declared length are collected whole: no stream per call. */
const BUFFER_LIMIT = 256 << 10

function poolFor(request: UpstreamRequest): Pool {
  const {address, overrides} = request
  const cert = request.tls?.cert
  let entries = pools.get(request.host)
  if (!entries) {
    entries = []
    pools.set(request.host, entries)
  }
  for (const entry of entries) {
    if (entry.address === address.address && entry.port === address.port && entry.overrides === overrides && entry.cert === cert) return entry.pool
  }
  // Loaded here, not at start-up: one-shot CLI processes never need it.
  const {Pool: UndiciPool} = require('undici') as typeof import('undici')
  const origin = `https://${address.family === 6 ? `[${address.address}]` : address.address}:${address.port}`
  const pool = new UndiciPool(origin, {
    connections: null,
    keepAliveTimeout: 30_000,
    connect: {servername: serverNameOf(request.host), ca: trustFor(request), cert, key: request.tls?.key},
  })
  entries.push({address: address.address, port: address.port, overrides, cert, pool})
  return pool
}

function brokerError(request: UpstreamRequest, failure: Error): Error {
  const error = failure as Error & {code?: string; cause?: Error & {code?: string}}
  if (error.code === 'UND_ERR_HEADERS_TIMEOUT') return timedOut(request, 'answer')
  if (error.code === 'UND_ERR_BODY_TIMEOUT') return timedOut(request, 'stall')
  return unreachable(request, error.cause ?? error)
}

/**
 * Receives one answer from undici: a small one (declared length within BUFFER_LIMIT) is
 * collected whole, anything else is handed on as a stream as it arrives. (A class: one object
 * per call rather than a closure per callback.)
 */
class AnswerHandler implements Dispatcher.DispatchHandler, CallerGoneListener {
  private status = 0
  private pairs: Array<[string, string]> = []
  private chunks?: Buffer[]
  private stream?: Readable
  private controller?: Dispatcher.DispatchController

  constructor(
    private readonly request: UpstreamRequest,
    private readonly resolve: (response: UpstreamResponse) => void,
    private readonly reject: (error: Error) => void,
  ) {}

  /** Called once the request has a connection: from here on, the caller going away aborts it (which closes that connection). */
  onRequestStart(controller: Dispatcher.DispatchController): void {
    const {signal} = this.request
    if (!signal) return
    if (signal.aborted) {
      controller.abort(callerGone(this.request))
      return
    }
    this.controller = controller
    signal.add(this)
  }

  /** The caller went away (this object is the listener: no closure per call). */
  callerGone(): void {
    this.controller?.abort(callerGone(this.request))
  }

  private settled(): void {
    if (this.controller) this.request.signal?.remove(this)
    this.controller = undefined
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return // 1xx: the real answer follows
    this.status = statusCode
    const pairs: Array<[string, string]> = []
    for (const name in headers) {
      const value = headers[name]
      if (Array.isArray(value)) for (const v of value) pairs.push([name, v])
      else if (value !== undefined) pairs.push([name, value])
    }
    this.pairs = pairs
    const length = Number(headers['content-length'])
    if (Number.isInteger(length) && length <= BUFFER_LIMIT) {
      this.chunks = []
      return
    }
    this.stream = new Readable({read: () => controller.resume()})
    this.resolve({statusCode, headers: pairs, body: this.stream})
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.chunks) this.chunks.push(chunk)
    else if (this.stream && !this.stream.push(chunk)) controller.pause()
  }

  onResponseEnd(): void {
    this.settled()
    const {chunks} = this
    if (chunks) this.resolve(new BufferedUpstreamResponse(this.status, this.pairs, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)))
    else this.stream?.push(null)
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.settled()
    const mapped = brokerError(this.request, error)
    if (this.stream) this.stream.destroy(mapped)
    else this.reject(mapped)
  }
}

/** Long-lived processes: a kept connection to exactly this peer and identity (see send.ts). */
export function sendPooled(request: UpstreamRequest): Promise<UpstreamResponse> {
  const headers: string[] = ['host', hostHeaderOf(request)]
  for (const [name, value] of request.headers) headers.push(name, value)
  const length = contentLengthOf(request)
  if (length !== undefined) headers.push('content-length', length)
  if (request.signal?.aborted) return Promise.reject(callerGone(request))
  return new Promise((resolve, reject) => {
    poolFor(request).dispatch(
      {
        method: request.method as Dispatcher.HttpMethod,
        path: request.target,
        headers,
        body: request.upload?.stream ?? (request.body.length > 0 ? request.body : null),
        headersTimeout: request.timeoutMs,
        bodyTimeout: request.timeoutMs,
      },
      new AnswerHandler(request, resolve, reject),
    )
  })
}

/** Drop every kept connection (a stopping server must not linger on idle sockets). */
export async function closePools(): Promise<void> {
  const open = [...pools.values()].flat()
  pools.clear()
  await Promise.all(open.map(({pool}) => pool.destroy().catch(() => {})))
}

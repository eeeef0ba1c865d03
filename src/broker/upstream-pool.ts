import {Readable} from 'node:stream'
import type {Dispatcher, Pool} from 'undici'

import type {UpstreamRequest, UpstreamResponse} from './upstream'
import {BufferedUpstreamResponse, hostHeaderOf, needsContentLength, serverNameOf, timedOut, trustFor, unreachable, useTransport} from './upstream'

/**
 * Keep-alive connections for long-lived processes (aivaultd, serve): one undici pool per
 * checked address, host name, trust and client certificate, so a connection is only ever
 * reused for exactly the peer and identity it was opened for.
 */
const pools = new Map<string, Pool>()

/** Answers up to this size with a declared length are collected whole: no stream per call. */
const BUFFER_LIMIT = 256 << 10

/** Small numbers for long strings (CA and client certificates), so pool keys stay short. */
const textIds = new Map<string, number>()

function idOf(text: string | undefined): number {
  if (text === undefined) return 0
  let id = textIds.get(text)
  if (id === undefined) {
    id = textIds.size + 1
    textIds.set(text, id)
  }
  return id
}

function poolFor(request: UpstreamRequest): Pool {
  const {address, overrides} = request
  const pinned = overrides.resolve.has(request.host.toLowerCase())
  const key = `${request.host}\0${address.address}\0${address.port}\0${pinned}\0${idOf(overrides.caCert)}\0${idOf(request.tls?.cert)}`
  let pool = pools.get(key)
  if (!pool) {
    // Loaded here, not at start-up: one-shot CLI processes never need it.
    const {Pool: UndiciPool} = require('undici') as typeof import('undici')
    const origin = `https://${address.family === 6 ? `[${address.address}]` : address.address}:${address.port}`
    pool = new UndiciPool(origin, {
      connections: 128,
      keepAliveTimeout: 30_000,
      connect: {servername: serverNameOf(request.host), ca: trustFor(request), cert: request.tls?.cert, key: request.tls?.key},
    })
    pools.set(key, pool)
  }
  return pool
}

function brokerError(request: UpstreamRequest, failure: Error): Error {
  const error = failure as Error & {code?: string; cause?: Error & {code?: string}}
  if (error.code === 'UND_ERR_HEADERS_TIMEOUT') return timedOut(request, 'answer')
  if (error.code === 'UND_ERR_BODY_TIMEOUT') return timedOut(request, 'stall')
  return unreachable(request, error.cause ?? error)
}

function sendPooled(request: UpstreamRequest): Promise<UpstreamResponse> {
  const headers: string[] = ['host', hostHeaderOf(request)]
  for (const [name, value] of request.headers) headers.push(name, value)
  if (needsContentLength(request)) headers.push('content-length', String(request.body.length))
  return new Promise((resolve, reject) => {
    let status = 0
    let pairs: Array<[string, string]> = []
    let chunks: Buffer[] | undefined // a small answer, collected whole
    let stream: Readable | undefined // anything else, forwarded as it arrives
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart() {},
      onResponseStart(controller, statusCode, responseHeaders) {
        if (statusCode < 200) return // 1xx: the real answer follows
        status = statusCode
        pairs = []
        for (const name in responseHeaders) {
          const value = responseHeaders[name]
          if (Array.isArray(value)) for (const v of value) pairs.push([name, v])
          else if (value !== undefined) pairs.push([name, value])
        }
        const length = Number(responseHeaders['content-length'])
        if (Number.isInteger(length) && length <= BUFFER_LIMIT) {
          chunks = []
          return
        }
        stream = new Readable({read: () => controller.resume()})
        resolve({statusCode, headers: pairs, body: stream})
      },
      onResponseData(controller, chunk) {
        if (chunks) chunks.push(chunk)
        else if (stream && !stream.push(chunk)) controller.pause()
      },
      onResponseEnd() {
        if (chunks) resolve(new BufferedUpstreamResponse(status, pairs, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)))
        else stream?.push(null)
      },
      onResponseError(_controller, error) {
        const mapped = brokerError(request, error)
        if (stream) stream.destroy(mapped)
        else reject(mapped)
      },
    }
    poolFor(request).dispatch(
      {
        method: request.method as Dispatcher.HttpMethod,
        path: request.target,
        headers,
        body: request.body.length > 0 ? request.body : null,
        headersTimeout: request.timeoutMs,
        bodyTimeout: request.timeoutMs,
      },
      handler,
    )
  })
}

export function usePooledConnections(): void {
  useTransport(sendPooled)
}

/** Drop every kept connection (a stopping server must not linger on idle sockets). */
export async function closePools(): Promise<void> {
  const open = [...pools.values()]
  pools.clear()
  await Promise.all(open.map((pool) => pool.destroy().catch(() => {})))
}

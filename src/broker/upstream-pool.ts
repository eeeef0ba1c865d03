import type {Pool} from 'undici'

import type {UpstreamRequest, UpstreamResponse} from './upstream'
import {hostHeaderOf, needsContentLength, serverNameOf, timedOut, trustFor, unreachable, useTransport} from './upstream'

/**
 * Keep-alive connections for long-lived processes (aivaultd, serve): one undici pool per
 * checked address, host name, trust and client certificate, so a connection is only ever
 * reused for exactly the peer and identity it was opened for.
 */
const pools = new Map<string, Pool>()

function poolFor(request: UpstreamRequest): Pool {
  const trust = trustFor(request)
  const key = `${request.host}\0${request.address.address}\0${request.address.port}\0${trust?.length ?? 0}\0${request.overrides.caCert ?? ''}\0${request.tls?.cert ?? ''}`
  let pool = pools.get(key)
  if (!pool) {
    // Loaded here, not at start-up: one-shot CLI processes never need it.
    const {Pool: UndiciPool} = require('undici') as typeof import('undici')
    const {address} = request
    const origin = `https://${address.family === 6 ? `[${address.address}]` : address.address}:${address.port}`
    pool = new UndiciPool(origin, {
      connections: 128,
      keepAliveTimeout: 30_000,
      connect: {servername: serverNameOf(request.host), ca: trust, cert: request.tls?.cert, key: request.tls?.key},
    })
    pools.set(key, pool)
  }
  return pool
}

async function sendPooled(request: UpstreamRequest): Promise<UpstreamResponse> {
  const headers: string[] = ['host', hostHeaderOf(request)]
  for (const [name, value] of request.headers) headers.push(name, value)
  if (needsContentLength(request)) headers.push('content-length', String(request.body.length))
  try {
    const response = await poolFor(request).request({
      method: request.method as 'GET',
      path: request.target,
      headers,
      body: request.body.length > 0 ? request.body : undefined,
      headersTimeout: request.timeoutMs,
      bodyTimeout: request.timeoutMs,
    })
    const pairs: Array<[string, string]> = []
    for (const name in response.headers) {
      const value = response.headers[name]
      if (Array.isArray(value)) for (const v of value) pairs.push([name, v])
      else if (value !== undefined) pairs.push([name, value])
    }
    return {statusCode: response.statusCode, headers: pairs, body: response.body}
  } catch (error) {
    const code = (error as {code?: string}).code
    if (code === 'UND_ERR_HEADERS_TIMEOUT') throw timedOut(request, 'answer')
    throw unreachable(request, (error as Error & {cause?: Error & {code?: string}}).cause ?? (error as Error))
  }
}

export function usePooledConnections(): void {
  useTransport(sendPooled)
}

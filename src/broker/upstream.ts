import type {IncomingMessage} from 'node:http'
import * as https from 'node:https'
import * as tls from 'node:tls'

import {AivaultError} from '../errors'
import type {CheckedAddress} from './ssrf'
import type {TestOverrides} from './test-mode'

export interface UpstreamRequest {
  method: string
  host: string
  port: number
  /** Path and query as sent (auth included). */
  target: string
  headers: Array<[string, string]>
  body: Buffer
  address: CheckedAddress
  tls?: {cert: string; key: string}
  timeoutMs: number
  overrides: TestOverrides
}

/**
 * Long-lived processes (aivaultd, serve) keep connections open per upstream address and TLS
 * identity; the CLI opens one connection per call and lets it go.
 */
let reuseConnections = false
const agents = new Map<string, https.Agent>()

export function enableConnectionReuse(): void {
  reuseConnections = true
}

function agentFor(request: UpstreamRequest, lookup: unknown): https.Agent | false {
  if (!reuseConnections) return false
  const key = JSON.stringify([request.host, request.address.address, request.address.port, trustFor(request)?.length ?? 0, request.overrides.caCert ?? '', request.tls?.cert ?? ''])
  let agent = agents.get(key)
  if (!agent) {
    agent = new https.Agent({keepAlive: true, maxSockets: 256, lookup, ca: trustFor(request), cert: request.tls?.cert, key: request.tls?.key} as https.AgentOptions)
    agents.set(key, agent)
  }
  return agent
}

/**
 * The dev CA (test mode) is the only trust anchor for hosts pinned by AIVAULT_DEV_RESOLVE;
 * other hosts keep the system roots (plus the dev CA). Building a context from every root
 * certificate costs ~100 ms, so the pinned case avoids it.
 */
function trustFor(request: UpstreamRequest): string[] | undefined {
  const {caCert, resolve} = request.overrides
  if (!caCert) return undefined
  return resolve.has(request.host.toLowerCase()) ? [caCert] : [...tls.rootCertificates, caCert]
}

/**
 * Send one request over HTTPS to the address the SSRF guard checked (never a fresh DNS
 * answer), with the real host name in the URL, the Host header and TLS SNI. Resolves when the
 * response headers arrive; the body is the live stream. Redirects are never followed here.
 */
export function sendUpstream(request: UpstreamRequest): Promise<IncomingMessage> {
  const {address} = request
  const defaultPort = request.port === 443
  const headers: Record<string, string | string[]> = {host: defaultPort ? request.host : `${request.host}:${request.port}`}
  for (const [name, value] of request.headers) {
    const existing = headers[name]
    headers[name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value]
  }
  if (request.body.length > 0 || !['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(request.method)) headers['content-length'] = String(request.body.length)
  const servername = /^[\d.]+$|:/.test(request.host) ? undefined : request.host
  // Connect to the checked address only.
  const lookup = (_host: string, options: {all?: boolean}, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{address: address.address, family: address.family}])
    else callback(null, address.address, address.family)
  }
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: request.host,
      port: address.port,
      method: request.method,
      path: request.target,
      headers,
      servername,
      agent: agentFor(request, lookup),
      ca: trustFor(request),
      cert: request.tls?.cert,
      key: request.tls?.key,
      lookup,
    } as https.RequestOptions)
    const timer = setTimeout(() => req.destroy(new AivaultError('upstream_timeout', `${request.host} did not answer within ${request.timeoutMs} ms`)), request.timeoutMs)
    req.once('response', (response) => {
      clearTimeout(timer)
      // Then an idle limit between body chunks, so a stalled stream still ends. The listener
      // is removed with the response: pooled sockets must not collect them.
      const socket = response.socket
      const stalled = () => response.destroy(new AivaultError('upstream_timeout', `${request.host} stalled for ${request.timeoutMs} ms`))
      socket.setTimeout(request.timeoutMs)
      socket.on('timeout', stalled)
      response.once('close', () => {
        socket.setTimeout(0)
        socket.off('timeout', stalled)
      })
      resolve(response)
    })
    req.once('error', (error: Error & {code?: string}) => {
      clearTimeout(timer)
      if (error instanceof AivaultError) reject(error)
      else reject(new AivaultError('upstream_unreachable', `${request.host}: ${error.code ?? error.message}`))
    })
    if (request.body.length > 0) req.end(request.body)
    else req.end()
  })
}

import type {RunMode} from '../../run-mode'
import type {UpstreamRequest, UpstreamResponse} from './upstream'
import {sendOnce} from './upstream'
import {sendPooled} from './upstream-pool'

/**
 * Send one request over HTTPS to the address the SSRF guard checked (never a fresh DNS
 * answer), with the real host name in the Host header and TLS SNI. Resolves when the response
 * headers arrive; the body is the live stream, and it too ends if the upstream stalls for
 * `timeoutMs`. Redirects are never followed here. The run mode picks the client: a one-shot
 * process uses node:https and lets the connection go; a long-lived one (aivaultd, serve) keeps
 * connections in undici pools (undici is loaded on the first pooled request).
 */
export function sendUpstream(mode: RunMode, request: UpstreamRequest): Promise<UpstreamResponse> {
  return mode.pooledConnections ? sendPooled(request) : sendOnce(request)
}

import type * as http from 'node:http'

import type {BrokerDeps} from '../broker/deps'
import type {InvocationContext} from '../broker/credential/resolve-credential'
import {invoke} from '../broker/pipeline'
import {readWhole} from '../broker/request/policy'
import {auditRefusal} from '../broker/request/refusals'
import {CallerSignal} from '../broker/upstream/caller-signal'
import {AivaultError} from '../errors'
import {Exposure} from '../mcp/exposure'
import type {McpBroker} from '../mcp/mcp-server'
import {DEFAULT_MAX_BODY_BYTES, createMcpServer} from '../mcp/mcp-server'
import {loadMcpSdk} from '../mcp/sdk'
import {AccessRefusal, authorize} from './access'
import type {ProxyToken} from './proxy-tokens'

type HttpTransportModule = typeof import('@modelcontextprotocol/sdk/server/streamableHttp.js')

let httpTransport: HttpTransportModule | undefined

/** The SDK's streamable-HTTP transport, loaded when serve first answers /mcp. */
function loadHttpTransport(): HttpTransportModule {
  httpTransport ??= require('@modelcontextprotocol/sdk/server/streamableHttp.js') as HttpTransportModule
  return httpTransport
}

export interface McpRequestOptions {
  token: ProxyToken
  context: InvocationContext
  toolPerCapability: boolean
  maxRequestBytes: number
}

/** A JSON-RPC error answer outside the SDK (the request never reached it). */
function sendRpcError(res: http.ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {'content-type': 'application/json', ...headers})
  res.end(JSON.stringify({jsonrpc: '2.0', id: null, error: {code, message}}))
}

/**
 * The broker as serve's /mcp reaches it: in this process, for the token's capabilities and
 * credential only. A call the token does not allow is audited as access.denied, as on serve's
 * other routes.
 */
function tokenBroker(deps: BrokerDeps, token: ProxyToken, res: http.ServerResponse): McpBroker {
  return {
    catalog: () => ({vault: deps.vault, registry: deps.registry}),
    async call(envelope, context) {
      try {
        authorize(token, envelope)
      } catch (error) {
        if (error instanceof AccessRefusal) await auditRefusal(deps.vault, {kind: 'access.denied', via: 'serve', capability: envelope.capability, tokenId: token.id, context}, error).catch(() => undefined)
        throw error
      }
      const signal = new CallerSignal()
      res.once('close', () => res.writableFinished || signal.abort())
      const response = await invoke(deps, envelope, {context, stream: true, signal})
      return {response, stop: () => signal.abort()}
    },
  }
}

/**
 * `POST /mcp` on `aivault serve`: MCP's streamable HTTP transport, stateless (a server and a
 * transport per request, JSON answers, no session to keep: any serve worker answers any
 * request). The proxy token's capabilities are the exposed tools; its consumer (else "mcp") is
 * the consumer, as a client's self-reported name is neither verified nor known without a session.
 */
export async function serveMcpRequest(deps: BrokerDeps, req: http.IncomingMessage, res: http.ServerResponse, options: McpRequestOptions): Promise<void> {
  if (req.method !== 'POST') {
    req.resume()
    return sendRpcError(res, 405, -32000, 'this MCP endpoint is stateless: POST JSON-RPC messages to it (no GET stream, no session to DELETE)', {allow: 'POST'})
  }
  let body: unknown
  try {
    body = JSON.parse((await readWhole(req, options.maxRequestBytes, () => new AivaultError('body_too_large', `the request body exceeds ${options.maxRequestBytes} bytes`))).toString('utf8'))
  } catch (error) {
    if (error instanceof AivaultError) return sendRpcError(res, 413, -32600, error.message)
    return sendRpcError(res, 400, -32700, 'parse error: the body is not JSON')
  }
  const sdk = loadMcpSdk()
  const {StreamableHTTPServerTransport} = loadHttpTransport()
  const server = createMcpServer(sdk, tokenBroker(deps, options.token, res), {
    exposure: Exposure.exactly(options.token.capabilities),
    toolPerCapability: options.toolPerCapability,
    maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
    context: {...options.context, consumer: options.token.consumer ?? 'mcp'},
  })
  const transport = new StreamableHTTPServerTransport({sessionIdGenerator: undefined, enableJsonResponse: true})
  res.once('close', () => void server.close())
  await server.connect(transport)
  await transport.handleRequest(req, res, body)
}

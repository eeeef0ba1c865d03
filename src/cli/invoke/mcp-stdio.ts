import type {BrokerDeps} from '../../broker/deps'
import type {McpBroker, McpServerOptions} from '../../mcp/mcp-server'
import {createMcpServer} from '../../mcp/mcp-server'
import {loadMcpSdk} from '../../mcp/sdk'
import {loadRegistry} from '../../plugins/runtime'
import {Vault} from '../../vault/vault'

/** In this process (AIVAULTD_DISABLE=1), audit events are committed in groups of at most this long. */
const AUDIT_GROUP_MS = 50

/** The broker's modules, loaded on the first call: the server answers initialize without them. */
function brokerModules() {
  return {
    ...(require('../../broker/long-lived') as typeof import('../../broker/long-lived')),
    ...(require('../../broker/pipeline') as typeof import('../../broker/pipeline')),
    ...(require('../../broker/upstream/caller-signal') as typeof import('../../broker/upstream/caller-signal')),
    ...(require('./broker-route') as typeof import('./broker-route')),
  }
}

/**
 * The broker as `aivault invoke` reaches it (SPEC §10): through aivaultd, started on demand,
 * or in this process when AIVAULTD_DISABLE=1 (then with long-lived deps: the server handles
 * many calls). The catalog is read fresh for each list, so a new credential shows at once.
 */
function brokerOf(env: NodeJS.ProcessEnv): McpBroker & {close(): Promise<void>} {
  let deps: BrokerDeps | undefined
  return {
    catalog: () => ({vault: Vault.fromEnv(env), registry: loadRegistry(env)}),
    async call(envelope, context) {
      const {CallerSignal, invoke, longLivedDeps, routeInvocation} = brokerModules()
      if (env.AIVAULTD_DISABLE === '1') {
        deps ??= longLivedDeps(env, AUDIT_GROUP_MS)
        const signal = new CallerSignal()
        const response = await invoke(deps, envelope, {context, stream: true, signal})
        return {response, stop: () => signal.abort()}
      }
      const response = await routeInvocation(envelope, {context, stream: true}, env)
      return {response, stop: () => response.body.destroy()}
    },
    async close() {
      if (!deps) return
      await deps.vault.audit.flush()
      await brokerModules().releaseLongLived()
    },
  }
}

/** `aivault mcp`: the server on stdin and stdout until the client closes stdin. */
export async function serveMcpOverStdio(options: McpServerOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const sdk = loadMcpSdk()
  const broker = brokerOf(env)
  const server = createMcpServer(sdk, broker, options)
  const closed = new Promise<void>((resolve) => (server.onclose = resolve))
  await server.connect(new sdk.StdioServerTransport())
  process.stdin.once('end', () => void server.close())
  await closed
  await broker.close()
}

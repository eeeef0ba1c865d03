import type {CapabilityDescription} from '../broker/credential/capability-catalog'
import {describeCapability, listCapabilities} from '../broker/credential/capability-catalog'
import type {InvocationContext} from '../broker/credential/resolve-credential'
import type {BrokerResponse} from '../broker/pipeline'
import type {Envelope} from '../broker/request/envelope'
import {auditRefusal} from '../broker/request/refusals'
import {AivaultError} from '../errors'
import type {Registry} from '../registry/registry'
import type {Vault} from '../vault/vault'
import {ArgumentError, envelopeOf} from './call-arguments'
import type {Exposure} from './exposure'
import type {McpSdk} from './sdk'
import type {ToolDefinition} from './tools'
import {DESCRIBE_TOOL, INVOKE_TOOL, LIST_TOOL, capabilityTool, genericTools, toolNames} from './tools'
import type {ToolResult} from './tool-result'
import {outcomeOf, toolError, toolResult} from './tool-result'

/** How the server reaches the vault: its catalog to list and describe, and the broker to call. */
export interface McpBroker {
  catalog(): {vault: Vault; registry: Registry}
  /** One invocation through the broker; `stop` ends it early (the body was cut at the cap). */
  call(envelope: Envelope, context: InvocationContext): Promise<{response: BrokerResponse; stop(): void}>
}

export interface McpServerOptions {
  exposure: Exposure
  toolPerCapability: boolean
  /** The most body bytes a tool result carries. */
  maxBodyBytes: number
  /** Scope of every call; `consumer` unset: the client's name from its initialize request. */
  context: InvocationContext
}

/** The default cap on a tool result's body: about 25,000 tokens of an agent's context. */
export const DEFAULT_MAX_BODY_BYTES = 100_000

const SERVER_INFO = {name: 'aivault', version: '0.1.0'}

const INSTRUCTIONS =
  'aivault calls provider APIs for you with credentials you never see. Call list_capabilities first, ' +
  'describe_capability for one capability\'s paths and methods, then invoke. Never put API keys in headers or bodies: ' +
  'the vault adds them, and refuses requests that try to set the credential.'

/**
 * The SDK validates JSON schemas only for elicitation, which this server never sends; its
 * default validator (ajv) is left out of the bundle (scripts/bundle.js).
 */
const NO_SCHEMA_VALIDATION = {
  getValidator(): never {
    throw new Error("aivault's MCP server sends no elicitation, so it validates no JSON schema")
  },
}

/** A consumer name from an MCP client's self-description: one printable line, at most 256 characters. */
export function consumerOfClient(name: string | undefined): string {
  // eslint-disable-next-line no-control-regex -- consumer names are printable (vault/names.ts)
  const clean = (name ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 256)
  return clean === '' ? 'mcp' : clean
}

/** The MCP server over the vault's capabilities (issue 17; docs/mcp.md). */
export function createMcpServer(sdk: McpSdk, broker: McpBroker, options: McpServerOptions): InstanceType<McpSdk['Server']> {
  const server = new sdk.Server(SERVER_INFO, {capabilities: {tools: {}}, instructions: INSTRUCTIONS, jsonSchemaValidator: NO_SCHEMA_VALIDATION})
  const invalid = (message: string) => new sdk.McpError(sdk.ErrorCode.InvalidParams, message)

  /** The ids of the ready capabilities in this server's scope and exposure. */
  function exposedIds(provider?: string): string[] {
    const {vault, registry} = broker.catalog()
    const {ready} = listCapabilities(vault, registry, {provider, scope: options.context})
    return ready.map((c) => c.id).filter((id) => options.exposure.allows(id))
  }

  /** Tool name -> capability id of the per-capability tools (none without --tool-per-capability). */
  function perCapabilityTools(): Map<string, string> {
    return options.toolPerCapability ? toolNames(exposedIds()) : new Map()
  }

  function describe(id: string): CapabilityDescription {
    const {vault, registry} = broker.catalog()
    return describeCapability(vault, registry, id)
  }

  server.setRequestHandler(sdk.ListToolsRequestSchema, () => {
    const tools: ToolDefinition[] = genericTools()
    for (const [name, id] of perCapabilityTools()) tools.push(capabilityTool(name, describe(id)))
    return {tools}
  })

  /**
   * One call: refused here when the capability is not exposed (a tool error) or the arguments
   * are malformed (a protocol error), each audited like a refusal of the broker's own.
   */
  async function call(capability: string, args: Record<string, unknown>, skip?: ReadonlySet<string>): Promise<ToolResult> {
    const startedAt = Date.now()
    const context = {...options.context, consumer: options.context.consumer ?? consumerOfClient(server.getClientVersion()?.name)}
    const {vault, registry} = broker.catalog()
    const refused = (error: Error) => auditRefusal(vault, {kind: 'capability.invoke', capability, context, startedAt}, error).catch(() => undefined)
    if (!options.exposure.allows(capability)) {
      const result = notExposed(capability)
      await refused(new AivaultError('policy_violation', 'not exposed'))
      return result
    }
    let envelope: Envelope
    try {
      envelope = envelopeOf(capability, args, {skip, ...callDefaults(vault, registry, capability, args)})
    } catch (error) {
      if (!(error instanceof ArgumentError)) throw error
      await refused(new AivaultError('invalid_request', error.message))
      throw invalid(error.message)
    }
    const {response, stop} = await broker.call(envelope, context)
    const outcome = await outcomeOf(response, options.maxBodyBytes, stop)
    return toolResult({capability, ...outcome})
  }

  server.setRequestHandler(sdk.CallToolRequestSchema, async (request) => {
    const {name} = request.params
    const args = (request.params.arguments ?? {}) as Record<string, unknown>
    try {
      if (name === LIST_TOOL) {
        if (args.provider !== undefined && typeof args.provider !== 'string') throw invalid('provider must be a string')
        return toolResult({capabilities: exposedIds(args.provider as string | undefined).map((id) => summary(describe(id)))})
      }
      if (name === DESCRIBE_TOOL) {
        const capability = stringArgument(args, 'capability', invalid)
        if (!options.exposure.allows(capability)) return notExposed(capability)
        return toolResult(forAgent(describe(capability)))
      }
      if (name === INVOKE_TOOL) return await call(stringArgument(args, 'capability', invalid), args, new Set(['capability']))
      const capability = perCapabilityTools().get(name)
      if (!capability) throw invalid(`no tool ${JSON.stringify(name)}: see tools/list`)
      return await call(capability, args)
    } catch (error) {
      if (error instanceof AivaultError) return toolError(`${error.code}: ${error.message}`, error.hint)
      throw error
    }
  })
  return server
}

function stringArgument(args: Record<string, unknown>, name: string, invalid: (message: string) => Error): string {
  const value = args[name]
  if (typeof value !== 'string' || value === '') throw invalid(`${name} must be a non-empty string`)
  return value
}

function notExposed(capability: string): ToolResult {
  return toolError(`policy_violation: ${capability} is not exposed by this MCP server`, 'call list_capabilities for the capabilities it serves')
}

/**
 * What a call leaves out, filled in as curl would: the capability's one path for a query
 * without a path, and GET (POST with a body) when the capability allows several methods.
 * An unknown capability gets none: the broker refuses it, and audits the refusal.
 */
function callDefaults(vault: Vault, registry: Registry, capability: string, args: Record<string, unknown>): {defaultPath?: string | null; defaultMethod?: string} {
  let described: CapabilityDescription
  try {
    described = describeCapability(vault, registry, capability)
  } catch {
    return {}
  }
  const wanted = args.body === undefined ? 'GET' : 'POST'
  return {defaultPath: described.defaults.path, defaultMethod: described.defaults.method ?? (described.methods.includes(wanted) ? wanted : undefined)}
}

function summary(c: CapabilityDescription) {
  return {id: c.id, title: c.title, description: c.description, methods: c.methods, pathPrefixes: c.pathPrefixes, ...(c.plugin ? {plugin: c.plugin} : {})}
}

/** `describe` as an agent uses it: the CLI's example commands become an example tool call. */
function forAgent(c: CapabilityDescription) {
  const {examples: _examples, requiredSecrets, ...rest} = c
  const example = {capability: c.id, method: c.defaults.method ?? c.methods[0], path: c.defaults.path ?? c.pathPrefixes[0]}
  return {...rest, requiredSecrets: requiredSecrets.map((s) => s.name), exampleCall: {tool: INVOKE_TOOL, arguments: example}}
}

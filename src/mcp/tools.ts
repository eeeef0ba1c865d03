import type {CapabilityDescription} from '../broker/credential/capability-catalog'
import {callProperties} from './call-arguments'

/** A tool as tools/list describes it (the SDK's Tool, without importing it). */
export interface ToolDefinition {
  [key: string]: unknown
  name: string
  title?: string
  description: string
  inputSchema: {type: 'object'; properties?: Record<string, unknown>; required?: string[]; additionalProperties?: boolean}
  annotations?: {readOnlyHint?: boolean; openWorldHint?: boolean; destructiveHint?: boolean}
}

export const LIST_TOOL = 'list_capabilities'
export const DESCRIBE_TOOL = 'describe_capability'
export const INVOKE_TOOL = 'invoke'

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']

/** The three tools every aivault MCP server has. */
export function genericTools(): ToolDefinition[] {
  return [
    {
      name: LIST_TOOL,
      title: 'List capabilities',
      description: 'The capabilities this server can call, with what each allows. Start here.',
      inputSchema: {type: 'object', properties: {provider: {type: 'string', description: 'Only this provider, e.g. openai.'}}, additionalProperties: false},
      annotations: {readOnlyHint: true, openWorldHint: false},
    },
    {
      name: DESCRIBE_TOOL,
      title: 'Describe a capability',
      description: 'What one capability allows: methods, hosts, path prefixes, its defaults and an example call.',
      inputSchema: {type: 'object', properties: {capability: {type: 'string', description: 'A capability id from list_capabilities, e.g. openai/models.'}}, required: ['capability'], additionalProperties: false},
      annotations: {readOnlyHint: true, openWorldHint: false},
    },
    {
      name: INVOKE_TOOL,
      title: 'Call a capability',
      description:
        'Call a provider API through the aivault broker. The vault adds the credential; you never see or send a key. ' +
        'Answers with the status, the response headers and the body (parsed when it is JSON).',
      inputSchema: {
        type: 'object',
        properties: {capability: {type: 'string', description: 'A capability id from list_capabilities, e.g. github/repos.'}, ...callProperties(HTTP_METHODS)},
        required: ['capability'],
        additionalProperties: false,
      },
      annotations: {openWorldHint: true},
    },
  ]
}

/** One tool for a ready capability (`--tool-per-capability`), its schema from `describe`. */
export function capabilityTool(name: string, capability: CapabilityDescription): ToolDefinition {
  const about = capability.description ?? capability.title ?? `Calls ${capability.id}.`
  const paths = capability.defaults.path ? `path ${capability.defaults.path}` : `paths under ${capability.pathPrefixes.join(', ')}`
  return {
    name,
    title: capability.title ?? capability.id,
    description: `${about} (aivault capability ${capability.id}: ${capability.methods.join(', ')} on ${capability.hosts.join(', ')}, ${paths}. The vault adds the credential.)`,
    inputSchema: {type: 'object', properties: callProperties(capability.methods), additionalProperties: false},
    annotations: {readOnlyHint: capability.methods.every((m) => m === 'GET' || m === 'HEAD'), openWorldHint: true},
  }
}

/** Tool names MCP clients accept everywhere: letters, digits, "_" and "-", at most 64. */
const MAX_TOOL_NAME = 64

/**
 * A tool name for each capability id: `openai/chat-completions` → `openai_chat-completions`;
 * a name already taken (by a generic tool or an earlier capability) gets a numbered suffix.
 */
export function toolNames(capabilityIds: readonly string[]): Map<string, string> {
  const taken = new Set([LIST_TOOL, DESCRIBE_TOOL, INVOKE_TOOL])
  const names = new Map<string, string>()
  for (const id of capabilityIds) {
    const base = id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, MAX_TOOL_NAME)
    let name = base
    for (let n = 2; taken.has(name); n++) name = `${base.slice(0, MAX_TOOL_NAME - String(n).length - 1)}_${n}`
    taken.add(name)
    names.set(name, id)
  }
  return names
}

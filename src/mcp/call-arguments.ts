import type {Envelope} from '../broker/request/envelope'
import {MAX_TIMEOUT_MS} from '../broker/request/envelope'
import {encodeQuery} from '../broker/request/path'

/**
 * The arguments of the `invoke` tool and of a capability's own tool, turned into a broker
 * envelope. A malformed call is a protocol error (MCP's invalid params), raised by the caller
 * with the message of an ArgumentError; what the broker then refuses is a tool error.
 */
export class ArgumentError extends Error {}

export interface CallArguments {
  method?: string
  path?: string
  query?: Record<string, string | string[]>
  headers?: Record<string, string>
  body?: unknown
  timeoutMs?: number
}

const CALL_FIELDS = new Set(['method', 'path', 'query', 'headers', 'body', 'timeoutMs'])

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** The fields every call tool takes; `invoke` adds `capability`. */
export function callProperties(methods: readonly string[]): Record<string, unknown> {
  return {
    method: {type: 'string', enum: [...methods], description: methods.length === 1 ? `Defaults to ${methods[0]}.` : 'The HTTP method.'},
    path: {type: 'string', description: 'The path on the provider, within the capability\'s path prefixes; may carry a query string.'},
    query: {type: 'object', additionalProperties: {anyOf: [{type: 'string'}, {type: 'array', items: {type: 'string'}}]}, description: 'Query parameters, added to the path.'},
    headers: {type: 'object', additionalProperties: {type: 'string'}, description: 'Request headers. Never put a key here: the vault adds the credential.'},
    body: {description: 'The request body: a string as is, anything else sent as JSON (content-type application/json unless a header says otherwise).'},
    timeoutMs: {type: 'integer', minimum: 1, maximum: MAX_TIMEOUT_MS, description: 'How long to wait for the provider, in milliseconds.'},
  }
}

/**
 * An envelope for `capability` from a tool call's arguments. `skip`: fields read already;
 * `defaultPath`: the capability's one path, which a query without a path is added to;
 * `defaultMethod`: the method when the call names none.
 */
export function envelopeOf(capability: string, args: Record<string, unknown>, options: {skip?: ReadonlySet<string>; defaultPath?: string | null; defaultMethod?: string} = {}): Envelope {
  const skip = options.skip ?? new Set()
  for (const key of Object.keys(args)) {
    if (!CALL_FIELDS.has(key) && !skip.has(key)) throw new ArgumentError(`unknown argument ${JSON.stringify(key)}`)
  }
  const call = args as CallArguments
  const request: Envelope['request'] = {}
  if (call.method !== undefined) {
    if (typeof call.method !== 'string' || !/^[A-Za-z]+$/.test(call.method)) throw new ArgumentError('method must be an HTTP method such as GET or POST')
    request.method = call.method.toUpperCase()
  } else if (options.defaultMethod) request.method = options.defaultMethod
  if (call.path !== undefined && typeof call.path !== 'string') throw new ArgumentError('path must be a string')
  const query = queryOf(call.query)
  if (call.path !== undefined) request.path = joinQuery(call.path, query)
  else if (query) {
    if (!options.defaultPath) throw new ArgumentError(`${capability} allows several paths: pass path with the query`)
    request.path = joinQuery(options.defaultPath, query)
  }
  const headers = headersOf(call.headers)
  if (call.body !== undefined) {
    if (typeof call.body === 'string') request.body = call.body
    else {
      request.body = JSON.stringify(call.body)
      if (!headers.some((h) => h.name.toLowerCase() === 'content-type')) headers.push({name: 'content-type', value: 'application/json'})
    }
  }
  if (headers.length > 0) request.headers = headers
  const envelope: Envelope = {capability, request}
  if (call.timeoutMs !== undefined) {
    if (!Number.isSafeInteger(call.timeoutMs) || call.timeoutMs < 1 || call.timeoutMs > MAX_TIMEOUT_MS) throw new ArgumentError(`timeoutMs must be an integer from 1 to ${MAX_TIMEOUT_MS}`)
    envelope.timeoutMs = call.timeoutMs
  }
  return envelope
}

function queryOf(query: unknown): string | undefined {
  if (query === undefined) return undefined
  if (!isObject(query)) throw new ArgumentError('query must be an object of parameter names to strings (or lists of strings)')
  const pairs: Array<[string, string]> = []
  for (const [name, value] of Object.entries(query)) {
    for (const one of Array.isArray(value) ? value : [value]) {
      if (typeof one !== 'string' && typeof one !== 'number' && typeof one !== 'boolean') throw new ArgumentError(`query parameter ${JSON.stringify(name)} must be a string or a list of strings`)
      pairs.push([name, String(one)])
    }
  }
  return pairs.length > 0 ? encodeQuery(pairs) : undefined
}

function joinQuery(path: string, query: string | undefined): string {
  if (!query) return path
  return `${path}${path.includes('?') ? '&' : '?'}${query}`
}

function headersOf(headers: unknown): Array<{name: string; value: string}> {
  if (headers === undefined) return []
  if (!isObject(headers)) throw new ArgumentError('headers must be an object of header names to strings')
  return Object.entries(headers).map(([name, value]) => {
    if (typeof value !== 'string') throw new ArgumentError(`header ${JSON.stringify(name)} must be a string`)
    return {name, value}
  })
}

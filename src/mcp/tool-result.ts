import {isUtf8} from 'node:buffer'

import type {BrokerResponse} from '../broker/pipeline'

/** What a call tool answers with: the broker's status, headers and body, never the request's credential. */
export interface CallOutcome {
  status: number
  headers: Record<string, string>
  /** The body parsed, when the answer is JSON and arrived whole. */
  json?: unknown
  /** The body as text (also an event stream, whole up to the cap). */
  text?: string
  /** Any other body. */
  bodyBase64?: string
  /** Set when the body was longer than the server's cap: only the first `keptBytes` are here. */
  truncated?: {keptBytes: number; note: string}
}

/** The shape of an MCP tools/call result (the SDK's CallToolResult, without importing it). */
export interface ToolResult {
  [key: string]: unknown
  content: Array<{type: 'text'; text: string}>
  structuredContent?: Record<string, unknown>
  isError?: boolean
}

const TEXT_TYPES = /^(text\/|application\/([\w.+-]*\+)?(json|xml|javascript|x-www-form-urlencoded|x-ndjson|graphql)\b)/i
const JSON_TYPES = /^application\/([\w.+-]*\+)?json\b/i

/**
 * Read a broker response into a tool result: the body up to `maxBytes` (then the upstream is
 * stopped with `stop` and the result says what was cut). An event stream is read whole, up to
 * the same cap, and returned as text: a tool call has one answer.
 */
export async function outcomeOf(response: BrokerResponse, maxBytes: number, stop: () => void): Promise<CallOutcome> {
  const chunks: Buffer[] = []
  let size = 0
  let truncated = false
  for await (const chunk of response.body) {
    const buffer = chunk as Buffer
    if (size + buffer.length > maxBytes) {
      chunks.push(buffer.subarray(0, maxBytes - size))
      size = maxBytes
      truncated = true
      break
    }
    chunks.push(buffer)
    size += buffer.length
  }
  if (truncated) {
    stop()
    // The audit event of a call stopped early is still written; nothing waits on it here.
    response.done.catch(() => undefined)
  } else {
    await response.done
  }
  const headers: Record<string, string> = {}
  for (const [name, value] of response.headers) headers[name] = name in headers ? `${headers[name]}, ${value}` : value
  const body = Buffer.concat(chunks, size)
  const outcome: CallOutcome = {status: response.status, headers}
  const type = headers['content-type'] ?? ''
  if (!truncated && JSON_TYPES.test(type) && body.length > 0) {
    try {
      outcome.json = JSON.parse(body.toString('utf8'))
      return outcome
    } catch {
      // Not JSON after all: the text below.
    }
  }
  if (body.length > 0) {
    if (TEXT_TYPES.test(type) || (type === '' && isUtf8(body))) outcome.text = body.toString('utf8')
    else outcome.bodyBase64 = body.toString('base64')
  }
  if (truncated) outcome.truncated = {keptBytes: size, note: `the body was longer than this server's cap of ${maxBytes} bytes and was cut there; ask for less (a smaller page or range)`}
  return outcome
}

/** The tool result: the outcome as structured content, and the same JSON as text for clients that read only text. */
export function toolResult(structured: Record<string, unknown>): ToolResult {
  return {content: [{type: 'text', text: JSON.stringify(structured)}], structuredContent: structured}
}

/** A tool error: what the broker refused, and how to fix it, as the agent reads it. */
export function toolError(message: string, hint?: string): ToolResult {
  return {content: [{type: 'text', text: hint ? `${message}\nHint: ${hint}` : message}], isError: true}
}

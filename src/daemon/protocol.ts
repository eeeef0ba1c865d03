/**
 * The aivaultd wire protocol (SPEC §15): one JSON object per line. Requests are
 * `{id, op, ...}`; replies `{id, ok: true, value}` or `{id, ok: false, error: {code, message}}`.
 * `execute_stream` replies with a `head` frame, `chunk` frames (base64) and an `end` frame.
 */
import type {Envelope} from '../broker/request/envelope'
import type {PlannedRequest} from '../broker/pipeline'
import type {InvocationContext} from '../broker/credential/resolve-credential'

export type DaemonOp = 'health' | 'status' | 'unlock' | 'lock' | 'execute' | 'execute_stream' | 'seal' | 'seal_tenant' | 'shutdown'

/** Ops a shared socket serves: invocation only, never key operations. */
export const SHARED_OPS: ReadonlySet<DaemonOp> = new Set(['health', 'execute', 'execute_stream'])

export interface ExecuteParams {
  envelope: Envelope
  context: InvocationContext
  followRedirects?: boolean
  /** The client's AIVAULT_DEV_* variables; a daemon started with others refuses the call (overrides.ts). */
  testOverrides?: Record<string, string>
}

export interface ExecuteResult {
  planned: PlannedRequest
  status: number
  headers: Array<[string, string]>
  bodyBase64: string
}

export type StreamFrame =
  | {type: 'head'; planned: PlannedRequest; status: number; headers: Array<[string, string]>}
  | {type: 'chunk'; data: string}
  | {type: 'end'}

export interface Reply {
  id: number | string
  ok: boolean
  value?: unknown
  error?: {code: string; message: string; hint?: string}
}

const NEWLINE = 0x0a

/**
 * Split a byte stream into lines; calls `onLine` for each complete one. Lines are cut on the
 * newline byte and decoded whole, so a UTF-8 character split across chunks arrives intact, and
 * each chunk is scanned once however long the line it belongs to. Throws when a line passes
 * `maxLine` bytes.
 */
export function lineSplitter(onLine: (line: string) => void, maxLine = 64 << 20): (chunk: Buffer) => void {
  let parts: Buffer[] = []
  let pendingBytes = 0
  return (chunk) => {
    let start = 0
    let at: number
    while ((at = chunk.indexOf(NEWLINE, start)) !== -1) {
      const tail = chunk.subarray(start, at)
      const length = pendingBytes + tail.length
      if (length > maxLine) throw new Error('frame too large')
      const line = pendingBytes === 0 ? tail : Buffer.concat([...parts, tail], length)
      parts = []
      pendingBytes = 0
      start = at + 1
      const text = line.toString('utf8')
      if (text.trim() !== '') onLine(text)
    }
    if (start < chunk.length) {
      pendingBytes += chunk.length - start
      if (pendingBytes > maxLine) throw new Error('frame too large')
      parts.push(start === 0 ? chunk : chunk.subarray(start))
    }
  }
}

/**
 * The aivaultd wire protocol (SPEC §15): one JSON object per line. Requests are
 * `{id, op, ...}`; replies `{id, ok: true, value}` or `{id, ok: false, error: {code, message}}`.
 * `execute_stream` replies with a `head` frame, `chunk` frames (base64) and an `end` frame.
 */
import type {Envelope} from '../broker/envelope'
import type {PlannedRequest} from '../broker/pipeline'
import type {InvocationContext} from '../broker/resolve-credential'

export type DaemonOp = 'health' | 'status' | 'unlock' | 'lock' | 'execute' | 'execute_stream' | 'seal' | 'seal_tenant' | 'shutdown'

/** Ops a shared socket serves: invocation only, never key operations. */
export const SHARED_OPS: ReadonlySet<DaemonOp> = new Set(['health', 'execute', 'execute_stream'])

export interface ExecuteParams {
  envelope: Envelope
  context: InvocationContext
  followRedirects?: boolean
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

/** Split a byte stream into lines; calls `onLine` for each complete one. */
export function lineSplitter(onLine: (line: string) => void, maxLine = 64 << 20): (chunk: Buffer) => void {
  let pending = ''
  return (chunk) => {
    pending += chunk.toString('utf8')
    if (pending.length > maxLine) throw new Error('frame too large')
    let at: number
    while ((at = pending.indexOf('\n')) !== -1) {
      const line = pending.slice(0, at)
      pending = pending.slice(at + 1)
      if (line.trim() !== '') onLine(line)
    }
  }
}

import type {Readable} from 'node:stream'

import {AivaultError} from '../../errors'

/** SPEC §7: `{capability, credential?, request: {method, path, headers?, body?, bodyBase64?, multipart?, multipartFiles?}}`. */
export interface EnvelopeRequest {
  method?: string
  path?: string
  headers?: Array<{name: string; value: string}>
  body?: string
  bodyBase64?: string
  multipart?: Array<{name: string; value: string}>
  /** Files are read by the calling process and travel as base64 (the broker never opens them). */
  multipartFiles?: Array<{name: string; filename: string; contentType?: string; dataBase64: string}>
  /** In-process callers only (serve's passthrough): the caller's body as it arrives, never parsed from JSON. */
  bodyStream?: StreamedBody
}

export interface StreamedBody {
  stream: Readable
  /** The length the caller declared, if it did (else the body is sent chunked). */
  length?: number
}

export interface Envelope {
  capability: string
  credential?: string
  request: EnvelopeRequest
  timeoutMs?: number
}

/** The longest an invocation may wait on its upstream (SPEC §7, hardened): 10 minutes. */
export const MAX_TIMEOUT_MS = 600_000

const ENVELOPE_FIELDS = new Set(['capability', 'credential', 'request', 'timeoutMs'])
const REQUEST_FIELDS = new Set(['method', 'path', 'headers', 'body', 'bodyBase64', 'multipart', 'multipartFiles'])
const SMUGGLING_FIELDS = new Set(['url', 'host', 'hostname', 'baseUrl', 'origin', 'port', 'scheme'])

const invalid = (message: string) => new AivaultError('invalid_request', message)

function checkFields(value: Record<string, unknown>, allowed: Set<string>, where: string): void {
  for (const key of Object.keys(value)) {
    if (SMUGGLING_FIELDS.has(key)) throw new AivaultError('policy_violation', `${where} may not name a ${key}: the capability decides where requests go`)
    if (!allowed.has(key)) throw invalid(`unknown field ${JSON.stringify(key)} in ${where}`)
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function pairs(value: unknown, where: string): Array<{name: string; value: string}> {
  if (!Array.isArray(value) || !value.every((p) => isObject(p) && typeof p.name === 'string' && typeof p.value === 'string' && Object.keys(p).length === 2)) {
    throw invalid(`${where} must be a list of {name, value}`)
  }
  return value as Array<{name: string; value: string}>
}

/** Validate an envelope from JSON (CLI flags, --request files, the daemon, the HTTP server). */
export function parseEnvelope(raw: unknown): Envelope {
  if (!isObject(raw)) throw invalid('the envelope must be a JSON object')
  checkFields(raw, ENVELOPE_FIELDS, 'the envelope')
  if (typeof raw.capability !== 'string' || raw.capability === '') throw invalid('the envelope needs a capability')
  if (raw.credential !== undefined && typeof raw.credential !== 'string') throw invalid('credential must be a string')
  if (raw.timeoutMs !== undefined) checkTimeout(raw.timeoutMs)
  const request = raw.request ?? {}
  if (!isObject(request)) throw invalid('request must be an object')
  return {capability: raw.capability, credential: raw.credential as string | undefined, request: parseRequest(request), timeoutMs: raw.timeoutMs as number | undefined}
}

function checkTimeout(timeoutMs: unknown): void {
  if (!(Number.isSafeInteger(timeoutMs) && (timeoutMs as number) > 0)) throw invalid('timeoutMs must be a positive integer')
  if ((timeoutMs as number) > MAX_TIMEOUT_MS) {
    throw new AivaultError('invalid_request', `timeoutMs ${timeoutMs} is over the maximum of ${MAX_TIMEOUT_MS} ms (10 minutes)`, {hint: `pass at most ${MAX_TIMEOUT_MS}`})
  }
}

export function parseRequest(request: Record<string, unknown>): EnvelopeRequest {
  checkFields(request, REQUEST_FIELDS, 'the request')
  const out: EnvelopeRequest = {}
  if (request.method !== undefined) {
    if (typeof request.method !== 'string' || !/^[A-Za-z]+$/.test(request.method)) throw invalid('method must be an HTTP method name')
    out.method = request.method.toUpperCase()
  }
  if (request.path !== undefined) {
    if (typeof request.path !== 'string') throw invalid('path must be a string')
    out.path = request.path
  }
  if (request.headers !== undefined) out.headers = pairs(request.headers, 'headers')
  const modes = ['body', 'bodyBase64', 'multipart'].filter((m) => request[m] !== undefined).concat(request.multipartFiles !== undefined && request.multipart === undefined ? ['multipartFiles'] : [])
  if (modes.length > 1) throw invalid(`use one body mode, not ${modes.join(' and ')}`)
  if (request.body !== undefined) {
    if (typeof request.body !== 'string') throw invalid('body must be a string (use bodyBase64 for bytes)')
    out.body = request.body
  }
  if (request.bodyBase64 !== undefined) {
    if (typeof request.bodyBase64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(request.bodyBase64)) throw invalid('bodyBase64 must be base64')
    out.bodyBase64 = request.bodyBase64
  }
  if (request.multipart !== undefined) out.multipart = pairs(request.multipart, 'multipart')
  if (request.multipartFiles !== undefined) {
    const files = request.multipartFiles
    if (!Array.isArray(files) || !files.every((f) => isObject(f) && typeof f.name === 'string' && typeof f.filename === 'string' && typeof f.dataBase64 === 'string')) {
      throw invalid('multipartFiles must be a list of {name, filename, contentType?, dataBase64}')
    }
    // eslint-disable-next-line no-control-regex -- a content type may not smuggle header lines
    if (files.some((f) => f.contentType !== undefined && (typeof f.contentType !== 'string' || /[\u0000-\u001f\u007f]/.test(f.contentType)))) {
      throw invalid('a multipart file contentType must be one line of text')
    }
    out.multipartFiles = files as EnvelopeRequest['multipartFiles']
  }
  return out
}

/** The request body bytes and, for multipart, the content type that goes with them. */
const NO_BODY = Object.freeze({body: Buffer.alloc(0)})

/** (A streamed body is not encoded: it is sent or read whole later, see invoke.) */
export function encodeBody(request: EnvelopeRequest): {body: Buffer; contentType?: string} {
  if (request.body !== undefined) return {body: Buffer.from(request.body, 'utf8')}
  if (request.bodyBase64 !== undefined) return {body: Buffer.from(request.bodyBase64, 'base64')}
  if (request.multipart === undefined && request.multipartFiles === undefined) return NO_BODY
  const boundary = `aivault-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`
  const quote = (s: string) => s.replace(/["\r\n]/g, (c) => encodeURIComponent(c))
  const parts: Buffer[] = []
  for (const field of request.multipart ?? []) {
    parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${quote(field.name)}"\r\n\r\n${field.value}\r\n`))
  }
  for (const file of request.multipartFiles ?? []) {
    const head = `--${boundary}\r\ncontent-disposition: form-data; name="${quote(file.name)}"; filename="${quote(file.filename)}"\r\ncontent-type: ${file.contentType ?? 'application/octet-stream'}\r\n\r\n`
    parts.push(Buffer.from(head), Buffer.from(file.dataBase64, 'base64'), Buffer.from('\r\n'))
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`))
  return {body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}`}
}

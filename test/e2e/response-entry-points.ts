/**
 * One broker call made through each entry point a caller can use (SPEC §7 "every entry
 * point"), with what that caller gets back: the broker library in this process (what the CLI
 * runs with AIVAULTD_DISABLE=1), the CLI in-process and through aivaultd, raw aivaultd frames
 * (`execute` and `execute_stream`), and `aivault serve` (envelope and passthrough).
 */
import * as net from 'node:net'

import {brokerDepsFromEnv} from '../../src/broker/deps'
import {invoke} from '../../src/broker/pipeline'
import {AivaultError} from '../../src/errors'
import type {TempVault} from './fixture'
import {request, type Served} from './serve-helpers'

export interface Call {
  capability: string
  method: string
  path: string
  body?: string
  followRedirects?: boolean
  stream?: boolean
  /** The envelope's timeoutMs (`--timeout-ms` for the CLI). */
  timeoutMs?: number
}

/** What the caller saw: an answer, or an error; `text` is everything it could read, for leak checks. */
export interface Outcome {
  status?: number
  headers: Array<[string, string]>
  body: string
  error?: {code: string; message: string}
  text: string
}

function outcome(parts: Omit<Outcome, 'text'>): Outcome {
  const text = [JSON.stringify(parts.headers), parts.body, parts.error ? `${parts.error.code} ${parts.error.message}` : ''].join('\n')
  return {...parts, text}
}

function envelopeOf(call: Call) {
  const request = {method: call.method, path: call.path, ...(call.body === undefined ? {} : {body: call.body})}
  return {capability: call.capability, request, ...(call.timeoutMs === undefined ? {} : {timeoutMs: call.timeoutMs})}
}

/** The broker library, in this process (node:https, as one-shot CLI processes send). */
export async function viaLibrary(env: NodeJS.ProcessEnv, call: Call): Promise<Outcome> {
  try {
    const result = await invoke(brokerDepsFromEnv(env), envelopeOf(call), {context: {}, stream: call.stream === true, followRedirects: call.followRedirects})
    const chunks: Buffer[] = []
    for await (const chunk of result.body) chunks.push(chunk as Buffer)
    await result.done
    return outcome({status: result.status, headers: result.headers, body: Buffer.concat(chunks).toString('utf8')})
  } catch (error) {
    const e = error as AivaultError
    return outcome({headers: [], body: '', error: {code: e.code, message: [e.message, e.hint].filter(Boolean).join(' / ')}})
  }
}

/** `aivault invoke` (raw body on stdout), in-process or through the running aivaultd. */
export async function viaCli(tv: TempVault, env: Record<string, string>, call: Call, where: 'in-process' | 'daemon'): Promise<Outcome> {
  const args = ['invoke', call.capability, '--method', call.method, '--path', call.path]
  if (call.body !== undefined) args.push('--body', call.body)
  if (call.followRedirects) args.push('--follow-redirects')
  if (call.stream) args.push('--stream')
  if (call.timeoutMs !== undefined) args.push('--timeout-ms', String(call.timeoutMs))
  const result = await tv.runAsync(args, {env: {...env, ...(where === 'in-process' ? {AIVAULTD_DISABLE: '1'} : {})}})
  const failed = result.status !== 0
  const error = failed ? {code: 'cli', message: result.stderr} : undefined
  return {...outcome({headers: [], body: result.stdout, error}), text: result.stdout + result.stderr}
}

/** Raw aivaultd frames on its socket: `execute` or `execute_stream`. */
export function viaFrames(socket: string, call: Call): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(socket)
    let buffer = ''
    let head: {status: number; headers: Array<[string, string]>} | undefined
    const chunks: Buffer[] = []
    const done = (result: Outcome) => {
      conn.destroy()
      resolve(result)
    }
    conn.on('error', reject)
    conn.on('data', (data: Buffer) => {
      buffer += data.toString('utf8')
      let at: number
      while ((at = buffer.indexOf('\n')) !== -1) {
        const frame = JSON.parse(buffer.slice(0, at))
        buffer = buffer.slice(at + 1)
        if (!frame.ok) return done(outcome({status: head?.status, headers: head?.headers ?? [], body: Buffer.concat(chunks).toString('utf8'), error: frame.error}))
        const value = frame.value
        if (!call.stream) return done(outcome({status: value.status, headers: value.headers, body: Buffer.from(value.bodyBase64, 'base64').toString('utf8')}))
        if (value.type === 'head') head = {status: value.status, headers: value.headers}
        else if (value.type === 'chunk') chunks.push(Buffer.from(value.data, 'base64'))
        else return done(outcome({status: head?.status, headers: head?.headers ?? [], body: Buffer.concat(chunks).toString('utf8')}))
      }
    })
    const op = call.stream ? 'execute_stream' : 'execute'
    conn.write(JSON.stringify({id: 1, op, envelope: envelopeOf(call), context: {}, followRedirects: call.followRedirects === true}) + '\n')
  })
}

/** `aivault serve`: POST /aivault/proxy with the envelope, or the passthrough /v/<credential>/<path>. */
export async function viaServe(served: Served, token: string, call: Call, passthrough?: string): Promise<Outcome> {
  const reply = passthrough
    ? await request(`${served.base}/v/${passthrough}${call.path}`, {method: call.method, headers: {authorization: `Bearer ${token}`}, body: call.body})
    : await request(`${served.base}/aivault/proxy`, {method: 'POST', headers: {authorization: `Bearer ${token}`, 'content-type': 'application/json'}, body: JSON.stringify(envelopeOf(call))})
  const headers = Object.entries(reply.headers).flatMap(([name, value]) => (Array.isArray(value) ? value : [String(value)]).map((v) => [name, v] as [string, string]))
  if (/problem\+json/.test(String(reply.headers['content-type']))) {
    const problem = JSON.parse(reply.body)
    return outcome({status: reply.status, headers, body: '', error: {code: problem.code, message: problem.detail}})
  }
  return outcome({status: reply.status, headers, body: reply.body})
}

/** Every spelling of a secret a caller could decode back (a broader list than fixture.assertNoSecrets). */
export function leakedSpellings(text: string, secret: string): string[] {
  const bytes = Buffer.from(secret)
  const component = encodeURIComponent(secret)
  const forms = [
    secret,
    component,
    component.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()),
    JSON.stringify(secret).slice(1, -1),
    JSON.stringify(secret).slice(1, -1).replace(/\//g, '\\/'),
    bytes.toString('base64').replace(/=+$/, ''),
    bytes.toString('base64url'),
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
  ]
  return [...new Set(forms)].filter((form) => text.includes(form))
}

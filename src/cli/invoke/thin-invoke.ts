/**
 * The fast path of `aivault invoke` (SPEC §10, issue 4): when aivaultd is running, bin/run.js
 * sends the call over its socket without loading oclif or any command. It understands the
 * flags the shared table (invoke-flag-table.ts) marks `thin` only; anything else (--json,
 * --request-file, a malformed flag, no daemon) returns false and the full CLI handles the
 * command, with the same results (test/cli/invoke-flags-equivalence.test.ts).
 */
import * as net from 'node:net'

import {testOverridesOf} from '../../daemon/override-claim'
import {lineSplitter} from '../../daemon/protocol'
import {daemonSocketPath} from '../../daemon/socket-path'
import {isValidName} from '../../vault/names'
import type {InvokeFlagSpec} from './invoke-flag-table'
import {FAIL_FLAG_TABLE, INVOKE_FLAG_TABLE, splitHeaderFlag} from './invoke-flag-table'
import {MAX_TIMEOUT_MS} from '../limits'
import {errorLines} from '../../render/colour'

/** What the thin client sends to aivaultd, and how it reports the outcome. */
export interface ThinInvocation {
  envelope: {capability: string; request: {method?: string; path?: string; headers?: Array<{name: string; value: string}>; body?: string}; credential?: string; timeoutMs?: number}
  context: {workspaceId?: string; groupId?: string; consumer?: string; clientIp?: string}
  stream: boolean
  fail: boolean
  followRedirects: boolean
}

type ThinFlag = {name: string; spec: InvokeFlagSpec}

/** `--name` and `-c` of every flag the thin client understands, from the shared table. */
const THIN_FLAGS: ReadonlyMap<string, ThinFlag> = new Map(
  Object.entries({...INVOKE_FLAG_TABLE, ...FAIL_FLAG_TABLE} as Record<string, InvokeFlagSpec>)
    .filter(([, spec]) => spec.thin)
    .flatMap(([name, spec]): Array<[string, ThinFlag]> => [[`--${name}`, {name, spec}], ...(spec.char ? [[`-${spec.char}`, {name, spec}] as [string, ThinFlag]] : [])]),
)

/**
 * The command line as the thin client reads it, or undefined to hand it to the full CLI: any
 * flag or form not read here (an unknown or non-thin flag, `-Xvalue`, a separate value that
 * starts with "-", a single-valued flag given twice, a value the full CLI would refuse).
 */
export function parseThinInvoke(argv: readonly string[]): ThinInvocation | undefined {
  const [command, capability, ...rest] = argv
  if (command !== 'invoke' || !capability || capability.startsWith('-')) return undefined
  const values = new Map<string, string[]>()
  for (let i = 0; i < rest.length; i++) {
    const eq = rest[i].startsWith('--') ? rest[i].indexOf('=') : -1
    const flag = THIN_FLAGS.get(eq === -1 ? rest[i] : rest[i].slice(0, eq))
    if (!flag) return undefined
    let value: string | undefined = eq === -1 ? undefined : rest[i].slice(eq + 1)
    if (flag.spec.kind === 'boolean') {
      if (value !== undefined) return undefined
      value = ''
    } else if (value === undefined) {
      value = rest[++i]
      // oclif reads a following flag as a missing value: leave such lines to it.
      if (value === undefined || value.startsWith('-')) return undefined
    }
    const seen = values.get(flag.name)
    if (seen && !flag.spec.multiple) return undefined
    values.set(flag.name, [...(seen ?? []), value])
  }
  return invocationOf(capability, values)
}

function invocationOf(capability: string, values: Map<string, string[]>): ThinInvocation | undefined {
  const one = (name: string) => values.get(name)?.[0]
  const out: ThinInvocation = {envelope: {capability, request: {}}, context: {}, stream: values.has('stream'), fail: values.has('fail'), followRedirects: values.has('follow-redirects')}
  const {request} = out.envelope
  const method = one('method')
  if (method !== undefined) {
    if (!/^[A-Za-z]+$/.test(method)) return undefined
    request.method = method.toUpperCase()
  }
  if (values.has('path')) request.path = one('path')
  for (const raw of values.get('header') ?? []) {
    const header = splitHeaderFlag(raw)
    if (!header) return undefined
    ;(request.headers ??= []).push(header)
  }
  if (values.has('body')) request.body = one('body')
  const credential = one('credential')
  if (credential) out.envelope.credential = credential
  const timeout = one('timeout-ms')
  if (timeout !== undefined) {
    // Out of range: the full CLI gives the usage error.
    if (!/^[1-9]\d*$/.test(timeout) || Number(timeout) > MAX_TIMEOUT_MS) return undefined
    out.envelope.timeoutMs = Number(timeout)
  }
  out.context = {workspaceId: one('workspace-id'), groupId: one('group-id'), consumer: one('consumer'), clientIp: one('client-ip')}
  if (out.context.groupId && !out.context.workspaceId) return undefined
  return namesValid(out) ? out : undefined
}

/** Names the full CLI would refuse (exit 2) are left to it, so both paths answer alike. */
function namesValid({envelope: {capability, credential}, context}: ThinInvocation): boolean {
  if (!isValidName('capability', capability)) return false
  if (credential !== undefined && !isValidName('credential', credential)) return false
  if (context.workspaceId !== undefined && !isValidName('workspace', context.workspaceId)) return false
  if (context.groupId !== undefined && !isValidName('group', context.groupId)) return false
  if (context.consumer !== undefined && !isValidName('consumer', context.consumer)) return false
  return context.clientIp === undefined || net.isIP(context.clientIp) !== 0
}

/** Run `invoke` through a live daemon. Resolves false when the full CLI should take over. */
export function thinInvoke(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (env.AIVAULTD_DISABLE === '1') return Promise.resolve(false)
  const parsed = parseThinInvoke(argv)
  if (!parsed) return Promise.resolve(false)
  return new Promise((resolve) => {
    const conn = net.connect(daemonSocketPath(env))
    let started = false
    let status = 0
    conn.once('error', () => {
      if (!started) resolve(false)
    })
    conn.once('connect', () => {
      started = true
      const testOverrides = testOverridesOf(env)
      conn.write(JSON.stringify({id: 1, op: 'execute_stream', envelope: parsed.envelope, context: parsed.context, followRedirects: parsed.followRedirects, testOverrides}) + '\n')
    })
    let finished = false
    const finish = (code: number) => {
      finished = true
      conn.end()
      process.exitCode = code
      resolve(true)
    }
    conn.on(
      'data',
      lineSplitter((line) => {
        const reply = JSON.parse(line) as {ok: boolean; value?: {type: string; status?: number; data?: string}; error?: {message: string; hint?: string}}
        if (!reply.ok) {
          process.stderr.write(errorLines(reply.error?.message ?? 'aivaultd failed', reply.error?.hint))
          return finish(1)
        }
        const frame = reply.value as {type: string; status?: number; data?: string; warnings?: string[]}
        if (frame.type === 'head') {
          status = frame.status ?? 0
          // Refused plugin providers, as every other command names them (SPEC §15 Plugins).
          for (const line of frame.warnings ?? []) process.stderr.write(`Warning: ${line}\n`)
        }
        else if (frame.type === 'chunk') process.stdout.write(Buffer.from(frame.data ?? '', 'base64'))
        else finish(parsed.fail && status >= 400 ? 22 : 0)
      }),
    )
    conn.on('close', () => {
      if (started && !finished) {
        process.stderr.write('Error: aivaultd closed the connection before the response ended\nHint: the daemon stopped; run the command again to start a fresh one\n')
        finished = true
        process.exitCode = 1
        resolve(true)
      }
    })
  })
}

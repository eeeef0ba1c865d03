/**
 * The fast path of `aivault invoke` (SPEC §10, issue 4): when aivaultd is running, bin/run.js
 * sends the call over its socket without loading oclif or any command. It understands the
 * common flags only; anything else (--json, --request-file, a malformed flag, no daemon)
 * returns false and the full CLI handles the command, with the same results.
 */
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'

import {testOverridesOf} from '../daemon/overrides'
import {lineSplitter} from '../daemon/protocol'
import {isValidName} from '../vault/names'
import {MAX_TIMEOUT_MS} from './limits'

interface Parsed {
  capability: string
  request: {method?: string; path?: string; headers?: Array<{name: string; value: string}>; body?: string}
  credential?: string
  timeoutMs?: number
  context: {workspaceId?: string; groupId?: string; consumer?: string; clientIp?: string}
  stream: boolean
  fail: boolean
  followRedirects: boolean
}

const VALUE_FLAGS: Record<string, string> = {
  '--method': 'method',
  '-X': 'method',
  '--path': 'path',
  '--header': 'header',
  '-H': 'header',
  '--body': 'body',
  '--credential': 'credential',
  '--workspace-id': 'workspace-id',
  '--group-id': 'group-id',
  '--consumer': 'consumer',
  '--client-ip': 'client-ip',
  '--timeout-ms': 'timeout-ms',
}
const BOOLEAN_FLAGS = new Set(['--stream', '--fail', '--follow-redirects'])

function parse(argv: string[]): Parsed | undefined {
  const [command, capability, ...rest] = argv
  if (command !== 'invoke' || !capability || capability.startsWith('-')) return undefined
  const out: Parsed = {capability, request: {}, context: {}, stream: false, fail: false, followRedirects: false}
  for (let i = 0; i < rest.length; i++) {
    let arg = rest[i]
    let value: string | undefined
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1
    if (eq !== -1) {
      value = arg.slice(eq + 1)
      arg = arg.slice(0, eq)
    }
    if (BOOLEAN_FLAGS.has(arg) && value === undefined) {
      if (arg === '--stream') out.stream = true
      else if (arg === '--fail') out.fail = true
      else out.followRedirects = true
      continue
    }
    const name = VALUE_FLAGS[arg]
    if (!name) return undefined
    value ??= rest[++i]
    if (value === undefined) return undefined
    switch (name) {
      case 'method':
        if (!/^[A-Za-z]+$/.test(value)) return undefined
        out.request.method = value.toUpperCase()
        break
      case 'header': {
        const at = value.indexOf('=')
        if (at <= 0) return undefined
        ;(out.request.headers ??= []).push({name: value.slice(0, at), value: value.slice(at + 1)})
        break
      }
      case 'path':
      case 'body':
        if (out.request[name] !== undefined) return undefined
        out.request[name] = value
        break
      case 'credential':
        out.credential = value
        break
      case 'timeout-ms':
        // Out of range: the full CLI gives the usage error.
        if (!/^[1-9]\d*$/.test(value) || Number(value) > MAX_TIMEOUT_MS) return undefined
        out.timeoutMs = Number(value)
        break
      case 'workspace-id':
        out.context.workspaceId = value
        break
      case 'group-id':
        out.context.groupId = value
        break
      case 'consumer':
        out.context.consumer = value
        break
      default:
        out.context.clientIp = value
    }
  }
  if (out.context.groupId && !out.context.workspaceId) return undefined
  return namesValid(out) ? out : undefined
}

/** Names the full CLI would refuse (exit 2) are left to it, so both paths answer alike. */
function namesValid({capability, credential, context}: Parsed): boolean {
  if (!isValidName('capability', capability)) return false
  if (credential !== undefined && !isValidName('credential', credential)) return false
  if (context.workspaceId !== undefined && !isValidName('workspace', context.workspaceId)) return false
  if (context.groupId !== undefined && !isValidName('group', context.groupId)) return false
  if (context.consumer !== undefined && !isValidName('consumer', context.consumer)) return false
  return context.clientIp === undefined || net.isIP(context.clientIp) !== 0
}

function socketPath(env: NodeJS.ProcessEnv): string {
  if (env.AIVAULTD_SOCKET) return path.resolve(env.AIVAULTD_SOCKET)
  if (env.AIVAULT_DIR) return path.join(path.resolve(env.AIVAULT_DIR), 'run', 'aivaultd.sock')
  return path.join(os.homedir(), '.aivault', 'run', 'aivaultd.sock')
}

/** Run `invoke` through a live daemon. Resolves false when the full CLI should take over. */
export function thinInvoke(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (env.AIVAULTD_DISABLE === '1') return Promise.resolve(false)
  const parsed = parse(argv)
  if (!parsed) return Promise.resolve(false)
  return new Promise((resolve) => {
    const conn = net.connect(socketPath(env))
    let started = false
    let status = 0
    conn.once('error', () => {
      if (!started) resolve(false)
    })
    conn.once('connect', () => {
      started = true
      const envelope = {capability: parsed.capability, request: parsed.request, ...(parsed.credential ? {credential: parsed.credential} : {}), ...(parsed.timeoutMs ? {timeoutMs: parsed.timeoutMs} : {})}
      const testOverrides = testOverridesOf(env)
      conn.write(JSON.stringify({id: 1, op: 'execute_stream', envelope, context: parsed.context, followRedirects: parsed.followRedirects, testOverrides}) + '\n')
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
          process.stderr.write(`Error: ${reply.error?.message ?? 'aivaultd failed'}\n${reply.error?.hint ? `Hint: ${reply.error.hint}\n` : ''}`)
          return finish(1)
        }
        const frame = reply.value as {type: string; status?: number; data?: string}
        if (frame.type === 'head') status = frame.status ?? 0
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

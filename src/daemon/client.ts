import {spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as path from 'node:path'

import {AivaultError} from '../errors'
import {packageRoot} from '../package-root'
import type {DaemonOp, Reply} from './protocol'
import {lineSplitter} from './protocol'
import {socketModeFromEnv} from './socket-files'

/** One connection to aivaultd; requests are multiplexed by id. */
export class DaemonClient {
  private nextId = 1
  private readonly waiting = new Map<number, (reply: Reply | undefined) => void>()

  private constructor(private readonly conn: net.Socket) {
    const onData = lineSplitter((line) => {
      let reply: Reply
      try {
        reply = JSON.parse(line)
      } catch {
        return
      }
      this.waiting.get(Number(reply.id))?.(reply)
    })
    conn.on('data', (chunk: Buffer) => onData(chunk))
    conn.on('close', () => {
      for (const deliver of this.waiting.values()) deliver(undefined)
      this.waiting.clear()
    })
    conn.on('error', () => conn.destroy())
  }

  static connect(socket: string, timeoutMs = 1000): Promise<DaemonClient | undefined> {
    return new Promise((resolve) => {
      if (!fs.existsSync(socket)) return resolve(undefined)
      const conn = net.connect(socket)
      const timer = setTimeout(() => {
        conn.destroy()
        resolve(undefined)
      }, timeoutMs)
      conn.once('connect', () => {
        clearTimeout(timer)
        resolve(new DaemonClient(conn))
      })
      conn.once('error', () => {
        clearTimeout(timer)
        resolve(undefined)
      })
    })
  }

  /** Send one request; `onReply` sees every reply frame for it until it returns true (done). */
  send(op: DaemonOp, params: Record<string, unknown>, onReply: (reply: Reply) => boolean): Promise<void> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (reply) => {
        if (!reply) {
          this.waiting.delete(id)
          reject(new AivaultError('vault_unavailable', 'aivaultd closed the connection before it finished', {hint: 'the daemon stopped; run the command again to start a fresh one'}))
          return
        }
        try {
          if (onReply(reply)) {
            this.waiting.delete(id)
            resolve()
          }
        } catch (error) {
          this.waiting.delete(id)
          reject(error)
        }
      })
      this.conn.write(JSON.stringify({id, op, ...params}) + '\n')
    })
  }

  /** A single-reply request: its value, or its error as an AivaultError. */
  async request<T>(op: DaemonOp, params: Record<string, unknown> = {}): Promise<T> {
    let value: T | undefined
    await this.send(op, params, (reply) => {
      if (!reply.ok) throw replyError(reply)
      value = reply.value as T
      return true
    })
    return value as T
  }

  close(): void {
    this.conn.end()
  }
}

export function replyError(reply: Reply): AivaultError {
  const error = reply.error ?? {code: 'invalid_request', message: 'aivaultd failed'}
  return new AivaultError(error.code as AivaultError['code'], error.message, {hint: error.hint})
}

/**
 * Start aivaultd in the background for this socket, inheriting this process's environment. The
 * entry point is this package's own bin/aivaultd.js, found from the package root and nowhere
 * else (a file planted next to the install folder must never run).
 */
export async function startDaemon(socket: string, env: NodeJS.ProcessEnv = process.env): Promise<DaemonClient> {
  // A bad mode would only make the daemon exit where nobody sees why: say it here.
  socketModeFromEnv(env)
  const daemonBin = path.join(packageRoot(), 'bin', 'aivaultd.js')
  const child = spawn(process.execPath, [daemonBin, '--socket', socket], {env, detached: true, stdio: 'ignore'})
  child.unref()
  const deadline = Date.now() + 5000
  for (let delay = 10; Date.now() < deadline; delay = Math.min(delay * 2, 100)) {
    const client = await DaemonClient.connect(socket, 500)
    if (client) return client
    await new Promise((r) => setTimeout(r, delay))
  }
  throw new AivaultError('vault_unavailable', `aivaultd did not start on ${socket}`, {hint: 'run "aivaultd" by hand to see why, or set AIVAULTD_DISABLE=1'})
}

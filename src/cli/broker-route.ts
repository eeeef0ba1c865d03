import {Readable} from 'node:stream'

import {brokerDepsFromEnv} from '../broker/deps'
import type {Envelope} from '../broker/envelope'
import type {BrokerResponse} from '../broker/pipeline'
import {invoke} from '../broker/pipeline'
import type {InvocationContext} from '../broker/resolve-credential'
import {DaemonClient, replyError, startDaemon} from '../daemon/client'
import type {StreamFrame} from '../daemon/protocol'
import {daemonSocketPath} from '../vault/status'
import {Vault} from '../vault/vault'

export interface RouteOptions {
  context: InvocationContext
  stream: boolean
  followRedirects?: boolean
}

/**
 * Where an invocation runs (SPEC §10): through aivaultd (started on demand unless
 * AIVAULTD_AUTOSTART=0), or in this process when AIVAULTD_DISABLE=1 or no daemon is wanted.
 * Files named by flags were already read by this process; the daemon never opens them.
 */
export async function routeInvocation(envelope: Envelope, options: RouteOptions, env: NodeJS.ProcessEnv = process.env): Promise<BrokerResponse> {
  if (env.AIVAULTD_DISABLE !== '1') {
    const socket = daemonSocketPath(Vault.fromEnv(env))
    let client = await DaemonClient.connect(socket)
    if (!client && env.AIVAULTD_AUTOSTART !== '0') client = await startDaemon(socket, env)
    if (client) return viaDaemon(client, envelope, options)
  }
  return invoke(brokerDepsFromEnv(env), envelope, {context: options.context, stream: options.stream, followRedirects: options.followRedirects})
}

function viaDaemon(client: DaemonClient, envelope: Envelope, options: RouteOptions): Promise<BrokerResponse> {
  const body = new Readable({read() {}})
  let settle: (() => void) | undefined
  const done = new Promise<void>((resolve) => (settle = resolve))
  return new Promise<BrokerResponse>((resolve, reject) => {
    let head = false
    const params = {envelope, context: options.context, followRedirects: options.followRedirects === true}
    client
      .send(options.stream ? 'execute_stream' : 'execute', params, (reply) => {
        if (!reply.ok) throw replyError(reply)
        if (!options.stream) {
          const value = reply.value as {planned: BrokerResponse['planned']; status: number; headers: Array<[string, string]>; bodyBase64: string}
          body.push(Buffer.from(value.bodyBase64, 'base64'))
          body.push(null)
          resolve({planned: value.planned, status: value.status, headers: value.headers, body, done})
          return true
        }
        const frame = reply.value as StreamFrame
        if (frame.type === 'head') {
          head = true
          resolve({planned: frame.planned, status: frame.status, headers: frame.headers, body, done})
        } else if (frame.type === 'chunk') {
          body.push(Buffer.from(frame.data, 'base64'))
        } else {
          body.push(null)
          return true
        }
        return false
      })
      .then(() => {
        client.close()
        settle?.()
      })
      .catch((error: Error) => {
        client.close()
        settle?.()
        if (head) body.destroy(error)
        else reject(error)
      })
  })
}

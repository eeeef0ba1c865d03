import {Readable} from 'node:stream'

import {brokerDepsFromEnv} from '../../broker/deps'
import type {Envelope} from '../../broker/request/envelope'
import type {BrokerResponse} from '../../broker/pipeline'
import {invoke} from '../../broker/pipeline'
import type {InvocationContext} from '../../broker/credential/resolve-credential'
import {DaemonClient, replyError, startDaemon} from '../../daemon/client'
import type {OverrideClaim} from '../../daemon/overrides'
import {testOverridesOf} from '../../daemon/overrides'
import type {StreamFrame} from '../../daemon/protocol'
import {daemonSocketPath} from '../../daemon/socket-path'
import {AivaultError} from '../../errors'

export interface RouteOptions {
  context: InvocationContext
  stream: boolean
  followRedirects?: boolean
}

/**
 * Where an invocation runs (SPEC §10): in this process when AIVAULTD_DISABLE=1, else through
 * aivaultd, started on demand unless AIVAULTD_AUTOSTART=0 (then a missing daemon is an error,
 * never a silent in-process run). Files named by flags were already read by this process; the
 * daemon never opens them.
 */
export async function routeInvocation(envelope: Envelope, options: RouteOptions, env: NodeJS.ProcessEnv = process.env): Promise<BrokerResponse> {
  if (env.AIVAULTD_DISABLE === '1') {
    return invoke(brokerDepsFromEnv(env), envelope, {context: options.context, stream: options.stream, followRedirects: options.followRedirects})
  }
  const socket = daemonSocketPath(env)
  let client = await DaemonClient.connect(socket)
  if (!client) {
    if (env.AIVAULTD_AUTOSTART === '0') {
      throw new AivaultError('vault_unavailable', `no aivaultd is running on ${socket}, and AIVAULTD_AUTOSTART=0 keeps invoke from starting one`, {
        hint: 'start it with "aivault daemon restart", or set AIVAULTD_DISABLE=1 to run the broker in this process',
      })
    }
    client = await startDaemon(socket, env)
  }
  return viaDaemon(client, envelope, options, testOverridesOf(env))
}

function viaDaemon(client: DaemonClient, envelope: Envelope, options: RouteOptions, testOverrides: OverrideClaim): Promise<BrokerResponse> {
  // A caller that stops reading (MCP's body cap) closes the socket: aivaultd then ends the upstream request.
  const body = new Readable({
    read() {},
    destroy(error, callback) {
      client.close()
      callback(error)
    },
  })
  let settle: (() => void) | undefined
  const done = new Promise<void>((resolve) => (settle = resolve))
  return new Promise<BrokerResponse>((resolve, reject) => {
    let head = false
    const params = {envelope, context: options.context, followRedirects: options.followRedirects === true, testOverrides}
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

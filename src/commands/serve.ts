import {Flags} from '@oclif/core'

import cluster, {type Worker} from 'node:cluster'

import {AivaultCommand} from '../base-command'
import {brokerDepsFromEnv} from '../broker/deps'
import {releaseLongLived, tuneForLongLived} from '../broker/long-lived'
import {AivaultError, usageError} from '../errors'
import {within} from '../cli/flags'
import {createBrokerServer, listen} from '../server/http-server'

/**
 * Serve answers before a call's audit event is on disk, so its groups can be longer than
 * aivaultd's: at most 10 group writes a second; a crash loses about the last 100 ms of events
 * (a stop writes them all).
 */
const SERVE_AUDIT_GROUP_MS = 100

export default class Serve extends AivaultCommand {
  static summary = 'Serve the broker over loopback HTTP so SDKs can use the vault by changing one base URL.'

  static description = `Routes: POST /aivault/proxy (an envelope, with "Authorization: Bearer <proxy token>"),
GET /aivault/health, and ANY /v/<credential>/<path>: point an SDK's base URL at it and give it a proxy
token (aivault token mint) where it expects its API key. The token is removed before anything leaves.`

  static examples = [
    '<%= config.bin %> serve --port 8787',
    'OPENAI_BASE_URL=http://127.0.0.1:8787/v/openai/v1 OPENAI_API_KEY=$(<%= config.bin %> token mint --capability openai/chat-completions --json | jq -r .token) python app.py',
  ]

  static flags = {
    host: Flags.string({description: 'Address to listen on.', default: '127.0.0.1'}),
    port: Flags.integer({description: 'Port to listen on (0 picks a free one).', default: 8787, ...within(0, 65535)}),
    'allow-remote': Flags.boolean({description: 'Accept clients that are not on loopback.'}),
    workers: Flags.integer({description: 'Worker processes sharing the port (rate limits, tokens and audit stay consistent across them).', default: 1, ...within(1, 64)}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Serve)
    if (!flags['allow-remote'] && !['127.0.0.1', '::1', 'localhost'].includes(flags.host)) {
      throw usageError(`--host ${flags.host} is not a loopback address`, 'add --allow-remote to listen beyond this machine')
    }
    const options = {host: flags.host, port: flags.port, allowRemote: flags['allow-remote']}
    if (flags.workers > 1 && cluster.isPrimary) return superviseWorkers(flags.workers, options)
    const deps = brokerDepsFromEnv()
    tuneForLongLived(deps, SERVE_AUDIT_GROUP_MS)
    const server = createBrokerServer(deps, options)
    const address = await listen(server, options).catch((error: NodeJS.ErrnoException) => {
      throw listenError(error, options)
    })
    // The primary announces the address once; every process stops the same way, so the audit
    // events still queued are written before it exits.
    if (cluster.isPrimary) announce(address)
    await new Promise<void>((resolve) => {
      const stop = () => server.close(() => resolve())
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    })
    await deps.vault.audit.flush()
    await releaseLongLived()
    // A worker's channel to the primary would keep it alive.
    if (cluster.isWorker) process.exit(0)
  }
}

/** The one line that says where serve listens (tests and scripts wait for it). */
function announce(address: {address: string; port: number}, suffix = ''): void {
  const host = address.address.includes(':') ? `[${address.address}]` : address.address
  process.stderr.write(`aivault serve listening on http://${host}:${address.port}${suffix}\n`)
}

/** A worker that dies this often within a minute is not restarted again: a restart will not fix it. */
const MAX_RESTARTS_PER_MINUTE = 5

/** Why the port could not be had, and what to do about it. */
function listenError(error: NodeJS.ErrnoException, options: {host: string; port: number}): Error {
  if (error.code === 'EADDRINUSE') return new AivaultError('invalid_request', `${options.host}:${options.port} is already in use`, {hint: 'pick another --port (0 picks a free one)'})
  if (error.code === 'EACCES') return new AivaultError('invalid_request', `not allowed to listen on ${options.host}:${options.port}`, {hint: 'use a port above 1023'})
  return error
}

/**
 * Fork workers that share the listening socket and announce the address once. A worker that
 * dies while serving is replaced (at most MAX_RESTARTS_PER_MINUTE a minute; past that serve
 * stops with exit code 1); a stop ends them all.
 */
async function superviseWorkers(count: number, options: {host: string; port: number}): Promise<void> {
  const workers = new Set<Worker>()
  const fork = () => workers.add(cluster.fork())
  for (let i = 0; i < count; i++) fork()
  // Serve is up when every worker listens. (Until then the shared socket may belong to one
  // worker only: were it to die, the socket would close, and with --port 0 come back on
  // another port.) A worker that exits before that means the port cannot be had.
  const address = await new Promise<{address: string; port: number}>((resolve, reject) => {
    let listening = 0
    const onListening = (_worker: Worker, at: {address: string; port: number}) => {
      if (++listening < count) return
      cluster.off('exit', onExit)
      cluster.off('listening', onListening)
      resolve(at)
    }
    const onExit = () => {
      cluster.off('exit', onExit)
      cluster.off('listening', onListening)
      for (const worker of workers) worker.kill('SIGTERM')
      reject(new AivaultError('invalid_request', `a worker could not listen on ${options.host}:${options.port}`, {hint: 'see the error above; pick another --port (0 picks a free one)'}))
    }
    cluster.on('exit', onExit)
    cluster.on('listening', onListening)
  })
  announce(address, ` (${count} workers)`)
  const exits: number[] = []
  await new Promise<void>((resolve) => {
    let stopping = false
    const stop = () => {
      stopping = true
      for (const worker of workers) worker.kill('SIGTERM')
      resolve()
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    cluster.on('exit', (worker, code, signal) => {
      workers.delete(worker)
      if (stopping) return
      const now = Date.now()
      exits.push(now)
      while (exits[0] < now - 60_000) exits.shift()
      const how = signal ? `signal ${signal}` : `code ${code}`
      if (exits.length > MAX_RESTARTS_PER_MINUTE) {
        process.stderr.write(`aivault serve: worker ${worker.process.pid} exited (${how}), the ${exits.length}th in a minute; stopping\n`)
        process.exitCode = 1
        stop()
        return
      }
      process.stderr.write(`aivault serve: worker ${worker.process.pid} exited (${how}); starting another\n`)
      fork()
    })
  })
}

import cluster, {type Worker} from 'node:cluster'

import {longLivedDeps, releaseLongLived} from '../broker/long-lived'
import {AivaultError} from '../errors'
import {resolveVaultPaths} from '../vault/store/paths'
import {createBrokerServer, listen} from './http-server'
import {type ServeAddress, removeServeAddress, serveAddressOf, writeServeAddress} from './serve-address'

/**
 * Serve answers before a call's audit event is on disk, so its groups can be longer than
 * aivaultd's: at most 10 group writes a second; a crash loses about the last 100 ms of events
 * (a stop writes them all).
 */
const SERVE_AUDIT_GROUP_MS = 100

export interface ServeOptions {
  host: string
  port: number
  allowRemote: boolean
  /** Worker processes sharing the port; 1 serves in this process. */
  workers: number
  /** Told once serve listens (by the primary process only), after run/serve.json is written. */
  onListening?: (address: ServeAddress) => void
}

/**
 * `aivault serve`: the broker behind the loopback HTTP server until SIGINT or SIGTERM. With
 * more than one worker, this (primary) process supervises workers that each run the server.
 */
export async function serveBroker({workers, onListening, ...options}: ServeOptions): Promise<void> {
  if (workers > 1 && cluster.isPrimary) return superviseWorkers(workers, options, onListening)
  const deps = longLivedDeps(process.env, SERVE_AUDIT_GROUP_MS)
  const server = createBrokerServer(deps, options)
  const address = await listen(server, options).catch((error: NodeJS.ErrnoException) => {
    throw listenError(error, options)
  })
  // The primary announces the address once; every process stops the same way, so the audit
  // events still queued are written before it exits.
  if (cluster.isPrimary) announce(address, '', onListening)
  await new Promise<void>((resolve) => {
    const stop = () => server.close(() => resolve())
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  if (cluster.isPrimary) forgetAddress()
  await deps.vault.audit.flush()
  await releaseLongLived()
  // A worker's channel to the primary would keep it alive.
  if (cluster.isWorker) process.exit(0)
}

/**
 * The one line that says where serve listens (tests and scripts wait for it), after the
 * address is in run/serve.json for `env --serve`.
 */
function announce(at: {address: string; port: number}, suffix: string, onListening: ServeOptions['onListening']): void {
  const address = serveAddressOf(at)
  try {
    writeServeAddress(resolveVaultPaths(process.env), address)
  } catch (error) {
    process.stderr.write(`aivault serve: could not record its address under run/: ${(error as Error).message}\n`)
  }
  process.stderr.write(`aivault serve listening on ${address.url}${suffix}\n`)
  onListening?.(address)
}

function forgetAddress(): void {
  try {
    removeServeAddress(resolveVaultPaths(process.env))
  } catch {
    // A vault folder removed under a running serve has no address left to forget.
  }
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
async function superviseWorkers(count: number, options: {host: string; port: number}, onListening: ServeOptions['onListening']): Promise<void> {
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
  announce(address, ` (${count} workers)`, onListening)
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
  forgetAddress()
}

import * as fs from 'node:fs'
import * as net from 'node:net'
import * as path from 'node:path'

import {CallerSignal} from '../broker/upstream/caller-signal'
import type {BrokerDeps} from '../broker/deps'
import {longLivedDeps, releaseLongLived} from '../broker/long-lived'
import {pluginWarnings} from '../plugins/runtime'
import {invoke} from '../broker/pipeline'
import {auditRefusal, parseInvocation} from '../broker/request/refusals'
import {AivaultError} from '../errors'
import {heldKeyProvider} from '../vault/keys/key-providers/held'
import {derivePassphraseKek} from '../vault/keys/key-providers/passphrase'
import {loadKeyring} from '../vault/keys/keyring'
import {associatedData, sealValue} from '../vault/keys/seal'
import type {Vault} from '../vault/vault'
import type {OverrideClaim} from './overrides'
import {checkClientOverrides, testOverridesOf} from './overrides'
import type {DaemonOp, Reply} from './protocol'
import {lineSplitter, SHARED_OPS} from './protocol'
import {clearStaleSocket, createSocketFolder, removePidFile, socketModeFromEnv, withStartLock, writePidFile} from './socket-files'

export interface DaemonOptions {
  socket: string
  /** Also serve invocation ops on a group-readable socket (0660 in a 0750 folder). */
  shared?: boolean
  /** Exit after the first connection closes (tests, inetd-style use). */
  once?: boolean
  env?: NodeJS.ProcessEnv
  idleExitMs?: number
}

const DEFAULT_UNLOCK_TTL_MS = 8 * 3600_000

/** A daemon's answer waits for its audit event: short groups keep that wait small. */
const DAEMON_AUDIT_GROUP_MS = 20

export function sharedSocketPath(socket: string): string {
  return path.join(path.dirname(socket), 'shared', path.basename(socket))
}

/**
 * aivaultd: serves the broker over a unix socket. It holds a passphrase vault's key in memory
 * after `unlock` (never handing it back), keeps rate counters and OAuth token state warm, and
 * reads records from disk on every request, so changes made by other processes apply at once.
 */
export class Daemon {
  private readonly vault: Vault
  private readonly deps: BrokerDeps
  /** The AIVAULT_DEV_* variables this daemon was started with (clients must state the same). */
  private readonly overrides: OverrideClaim
  private readonly servers: net.Server[] = []
  private readonly started = Date.now()
  private lastActivity = Date.now()
  private idleTimer?: NodeJS.Timeout
  private connections = new Set<net.Socket>()
  /** Refused plugin providers, sent with each streamed answer: the thin client loads no plugin code to find them itself. */
  private readonly pluginWarnings: string[]

  constructor(private readonly options: DaemonOptions) {
    const env = options.env ?? process.env
    this.deps = longLivedDeps(env, DAEMON_AUDIT_GROUP_MS)
    this.pluginWarnings = pluginWarnings(env)
    this.vault = this.deps.vault
    this.overrides = testOverridesOf(env)
  }

  async start(): Promise<void> {
    await this.listen(this.options.socket, socketModeFromEnv(this.deps.env) ?? 0o600, 0o700, false)
    if (this.options.shared) await this.listen(sharedSocketPath(this.options.socket), 0o660, 0o750, true)
    writePidFile(this.options.socket)
    const idle = this.options.idleExitMs
    if (idle && idle > 0) {
      this.idleTimer = setInterval(() => {
        if (this.connections.size === 0 && Date.now() - this.lastActivity > idle) void this.stop()
      }, Math.min(idle, 60_000))
      this.idleTimer.unref()
    }
  }

  private async listen(socket: string, mode: number, dirMode: number, shared: boolean): Promise<void> {
    createSocketFolder(path.dirname(socket), dirMode)
    const server = net.createServer((conn) => this.serve(conn, shared))
    await withStartLock(socket, async () => {
      await clearStaleSocket(socket)
      await new Promise<void>((resolve, reject) => {
        // The socket is created with a restrictive umask, then given its final mode.
        const umask = process.umask(0o177)
        server.once('error', (error) => {
          process.umask(umask)
          reject(error)
        })
        server.listen(socket, () => {
          process.umask(umask)
          resolve()
        })
      })
      fs.chmodSync(socket, mode)
    })
    this.servers.push(server)
  }

  async stop(): Promise<void> {
    if (this.idleTimer) clearInterval(this.idleTimer)
    for (const conn of this.connections) conn.destroy()
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
    removePidFile(this.options.socket)
    this.vault.lock()
    await releaseLongLived()
  }

  private serve(conn: net.Socket, shared: boolean): void {
    this.connections.add(conn)
    // A client that goes away (closed its socket, or its process died) aborts its upstream requests.
    const clientGone = new CallerSignal()
    const send = (reply: Reply) => {
      if (!conn.destroyed) conn.write(JSON.stringify(reply) + '\n')
    }
    const onData = lineSplitter((line) => {
      this.lastActivity = Date.now()
      let request: {id?: number | string; op?: DaemonOp; [key: string]: unknown}
      try {
        request = JSON.parse(line)
      } catch {
        send({id: 0, ok: false, error: {code: 'invalid_request', message: 'frames are one JSON object per line'}})
        return
      }
      const id = request.id ?? 0
      void this.handle(request, shared, send, clientGone).catch((error: unknown) => {
        const e = error instanceof AivaultError ? error : new AivaultError('invalid_request', (error as Error).message)
        send({id, ok: false, error: {code: e.code, message: e.message, ...(e.hint ? {hint: e.hint} : {})}})
      })
    })
    conn.on('data', (chunk: Buffer) => {
      try {
        onData(chunk)
      } catch {
        conn.destroy()
      }
    })
    conn.on('error', () => conn.destroy())
    conn.on('close', () => {
      clientGone.abort()
      this.connections.delete(conn)
      if (this.options.once) void this.stop().then(() => process.exit(0))
    })
  }

  private async handle(request: {id?: number | string; op?: DaemonOp; [key: string]: unknown}, shared: boolean, send: (reply: Reply) => void, signal: CallerSignal): Promise<void> {
    const id = request.id ?? 0
    const op = request.op
    if (!op) throw new AivaultError('invalid_request', 'a frame needs an op')
    if (shared && !SHARED_OPS.has(op)) {
      const refused = new AivaultError('policy_violation', `${op} is not available on the shared socket`)
      await auditRefusal(this.vault, {kind: 'access.denied', via: 'aivaultd', op}, refused).catch(() => {})
      throw refused
    }
    switch (op) {
      case 'health':
        return send({id, ok: true, value: {pid: process.pid, uptimeMs: Date.now() - this.started}})
      case 'status':
        return send({id, ok: true, value: this.status()})
      case 'unlock':
        return send({id, ok: true, value: await this.unlock(String(request.passphrase ?? ''), Number(request.ttlMs ?? DEFAULT_UNLOCK_TTL_MS))})
      case 'lock': {
        const wasUnlocked = this.vault.lock()
        if (wasUnlocked) await this.vault.audit.append('vault.lock', {via: 'aivaultd'})
        return send({id, ok: true, value: {locked: true, wasUnlocked}})
      }
      case 'seal':
        return send({id, ok: true, value: await this.seal(request)})
      case 'seal_tenant':
        return send({id, ok: true, value: await this.sealTenant(request)})
      case 'execute':
      case 'execute_stream':
        return this.execute(request, op === 'execute_stream', send, signal)
      case 'shutdown':
        // The pid lets the caller wait for the process itself, not only the socket, to be gone.
        send({id, ok: true, value: {stopping: true, pid: process.pid}})
        setImmediate(() => void this.stop().then(() => process.exit(0)))
        return
      default:
        throw new AivaultError('invalid_request', `unknown op ${JSON.stringify(op)}`)
    }
  }

  private status() {
    const exists = this.vault.exists()
    const config = exists ? this.vault.config() : undefined
    const until = this.vault.unlockedUntil()
    return {
      pid: process.pid,
      vaultId: config?.vaultId ?? null,
      provider: config?.keyProvider.type ?? null,
      locked: config?.keyProvider.type === 'passphrase' ? until === null : false,
      unlockedUntil: until === null ? null : new Date(until).toISOString(),
    }
  }

  /** Derive the KEK from the passphrase and hold it; the passphrase itself is dropped at once. */
  private async unlock(passphrase: string, ttlMs: number) {
    const config = this.vault.config()
    const settings = config.keyProvider
    if (settings.type !== 'passphrase') throw new AivaultError('invalid_request', `this vault uses the ${settings.type} key provider; only passphrase vaults are unlocked`)
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new AivaultError('invalid_request', 'the unlock TTL must be positive')
    const kek = await derivePassphraseKek(passphrase, settings)
    let keyring
    try {
      keyring = await loadKeyring(config, heldKeyProvider(kek), this.vault.paths)
    } catch (error) {
      // A wrong passphrase gives a key that is not this vault's; the right one over an edited
      // vault.yaml is vault_tampered, and says so.
      if (error instanceof AivaultError && error.code === 'vault_unavailable') {
        await this.vault.audit.append('access.denied', {op: 'unlock', error: 'auth_failed'})
        throw new AivaultError('auth_failed', 'wrong passphrase', {hint: 'try again'})
      }
      throw error
    }
    const expiresAt = this.vault.holdUnlocked(keyring, ttlMs, config)
    await this.vault.audit.append('vault.unlock', {via: 'aivaultd', ttlMs})
    return {locked: false, unlockedUntil: new Date(expiresAt).toISOString()}
  }

  /** Seal a value for a CLI process that has no key (passphrase vaults): plaintext in, ciphertext out. */
  private async seal(request: Record<string, unknown>) {
    const params = request as {valueBase64?: string; secretId?: string; scope?: never; pinnedProvider?: string | null; tenantHost?: string}
    if (typeof params.valueBase64 !== 'string' || typeof params.secretId !== 'string' || !params.scope) throw new AivaultError('invalid_request', 'seal needs valueBase64, secretId and scope')
    const keyring = await this.vault.keyring()
    const tenantHost = typeof params.tenantHost === 'string' ? params.tenantHost : undefined
    const ad = associatedData(this.vault.config().vaultId, params.secretId, params.scope, params.pinnedProvider ?? undefined, tenantHost)
    return {sealed: await sealValue(keyring.current, Buffer.from(params.valueBase64, 'base64'), ad)}
  }

  /** Bind a per-tenant key to its tenant for a CLI process that has no key: the value never leaves (SPEC §4). */
  private async sealTenant(request: Record<string, unknown>) {
    const {secretId, nonce, tenantHost} = request as {secretId?: unknown; nonce?: unknown; tenantHost?: unknown}
    if (typeof secretId !== 'string' || typeof nonce !== 'string' || typeof tenantHost !== 'string') throw new AivaultError('invalid_request', 'seal_tenant needs secretId, nonce and tenantHost')
    const record = this.vault.secrets.read(secretId)
    if (record.sealed.nonce !== nonce) throw new AivaultError('conflict', `secret ${record.name} changed meanwhile`, {hint: 'run the command again'})
    return {sealed: await this.vault.sealForTenant(record, tenantHost)}
  }

  private async execute(request: Record<string, unknown>, stream: boolean, send: (reply: Reply) => void, signal: CallerSignal): Promise<void> {
    const id = (request.id as number | string) ?? 0
    checkClientOverrides(this.overrides, request.testOverrides, () => this.vault.exists() && this.vault.config().testing)
    const {envelope, context} = await parseInvocation(this.vault, {envelope: request.envelope, context: request.context})
    const result = await invoke(this.deps, envelope, {context, stream, followRedirects: request.followRedirects === true, signal})
    if (!stream) {
      let body = result.bytes
      if (!body) {
        const chunks: Buffer[] = []
        for await (const chunk of result.body) chunks.push(chunk as Buffer)
        body = Buffer.concat(chunks)
      }
      await result.done
      send({id, ok: true, value: {planned: result.planned, status: result.status, headers: result.headers, bodyBase64: body.toString('base64')}})
      return
    }
    const warnings = this.pluginWarnings.length > 0 ? {warnings: this.pluginWarnings} : {}
    send({id, ok: true, value: {type: 'head', planned: result.planned, status: result.status, headers: result.headers, ...warnings}})
    try {
      for await (const chunk of result.body) send({id, ok: true, value: {type: 'chunk', data: (chunk as Buffer).toString('base64')}})
    } catch (error) {
      const e = error instanceof AivaultError ? error : new AivaultError('upstream_unreachable', (error as Error).message)
      send({id, ok: false, error: {code: e.code, message: e.message}})
      return
    }
    await result.done
    send({id, ok: true, value: {type: 'end'}})
  }
}

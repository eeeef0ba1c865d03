/**
 * Calls refused before `invoke()` runs: a malformed envelope or invocation context, a proxy
 * token, a token's scope, an op the socket does not offer. `invoke()` audits its own refusals;
 * these are audited here, one event each, so N calls leave N events (SPEC §15 Audit).
 * Events carry names only when they pass their rule (vault/names.ts): what a refused caller
 * sent is never copied into the log unchecked, and no token or secret ever is.
 */
import {isIP} from 'node:net'

import type {ErrorCode} from '../../errors'
import {AivaultError} from '../../errors'
import type {NameKind} from '../../vault/names'
import {isValidName, nameProblem} from '../../vault/names'
import type {Vault} from '../../vault/vault'
import type {Envelope} from './envelope'
import {parseEnvelope} from './envelope'
import type {InvocationContext} from '../credential/resolve-credential'

export interface Refusal {
  /** An invocation refused (`capability.invoke` with `error`), or access itself (`access.denied`: tokens, scopes, sockets). */
  kind: 'capability.invoke' | 'access.denied'
  /** The entry point, on access.denied events. */
  via?: 'aivaultd' | 'serve'
  capability?: string
  credential?: string
  method?: string
  tokenId?: string
  op?: string
  context?: InvocationContext
  /** When the call arrived (ms), for capability.invoke's durationMs. */
  startedAt?: number
}

export function errorCode(error: unknown): ErrorCode {
  return error instanceof AivaultError ? error.code : 'invalid_request'
}

const valid = (kind: NameKind, value: unknown): value is string => typeof value === 'string' && isValidName(kind, value)

/**
 * The event's fields in the order invoke() writes them: capability, the caller's context, the
 * call, then the error.
 */
function refusalFields(refusal: Refusal, error: unknown): Record<string, unknown> {
  const fields: Record<string, unknown> = {}
  const ctx = refusal.context ?? {}
  if (valid('capability', refusal.capability)) fields.capability = refusal.capability
  if (valid('workspace', ctx.workspaceId)) fields.workspaceId = ctx.workspaceId
  if (valid('group', ctx.groupId)) fields.groupId = ctx.groupId
  if (valid('consumer', ctx.consumer)) fields.consumer = ctx.consumer
  if (typeof ctx.clientIp === 'string' && isIP(ctx.clientIp) !== 0) fields.clientIp = ctx.clientIp
  if (refusal.via) fields.via = refusal.via
  if (refusal.op && /^[a-z_]{1,32}$/.test(refusal.op)) fields.op = refusal.op
  if (refusal.tokenId) fields.tokenId = refusal.tokenId
  if (valid('credential', refusal.credential)) fields.credential = refusal.credential
  if (refusal.method && /^[A-Z]{1,16}$/.test(refusal.method)) fields.method = refusal.method
  fields.error = errorCode(error)
  if (refusal.kind === 'capability.invoke') fields.durationMs = refusal.startedAt === undefined ? 0 : Date.now() - refusal.startedAt
  return fields
}

/** Log one refusal, when there is a vault to log to (a refusal never creates one). */
export function auditRefusal(vault: Vault, refusal: Refusal, error: unknown): Promise<void> {
  if (!vault.exists()) return Promise.resolve()
  return vault.audit.append(refusal.kind, refusalFields(refusal, error))
}

const CONTEXT_FIELDS: Record<keyof InvocationContext, NameKind | 'ip'> = {workspaceId: 'workspace', groupId: 'group', consumer: 'consumer', clientIp: 'ip'}

/** An invocation context from JSON (daemon frames): optional workspaceId, groupId, consumer and clientIp, each valid. */
export function parseContext(raw: unknown): InvocationContext {
  if (raw === undefined || raw === null) return {}
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new AivaultError('invalid_request', 'context must be an object')
  const out: InvocationContext = {}
  for (const [field, value] of Object.entries(raw)) {
    const kind = CONTEXT_FIELDS[field as keyof InvocationContext]
    if (!kind) throw new AivaultError('invalid_request', `unknown field ${JSON.stringify(field.slice(0, 40))} in the context`)
    if (value === undefined || value === null) continue
    if (typeof value !== 'string') throw new AivaultError('invalid_request', `context.${field} must be a string`)
    if (kind === 'ip') {
      if (isIP(value) === 0) throw new AivaultError('invalid_request', 'context.clientIp is not an IP address')
    } else {
      const problem = nameProblem(kind, value)
      if (problem) throw new AivaultError('invalid_request', `context.${field} ${problem.message}`, {hint: problem.hint})
    }
    out[field as keyof InvocationContext] = value
  }
  if (out.groupId && !out.workspaceId) throw new AivaultError('invalid_request', 'context.groupId needs context.workspaceId')
  return out
}

/** What a raw envelope names, for the event of its refusal. */
function claimed(raw: unknown): {capability?: string; credential?: string} {
  if (raw === null || typeof raw !== 'object') return {}
  const {capability, credential} = raw as Record<string, unknown>
  return {capability: typeof capability === 'string' ? capability : undefined, credential: typeof credential === 'string' ? credential : undefined}
}

/**
 * An envelope and context sent as JSON (a daemon frame, a demo attempt), validated; a refusal
 * is audited (capability.invoke with its error) before it is thrown.
 */
export async function parseInvocation(vault: Vault, raw: {envelope: unknown; context?: unknown}): Promise<{envelope: Envelope; context: InvocationContext}> {
  const startedAt = Date.now()
  try {
    const envelope = parseEnvelope(raw.envelope)
    for (const [kind, value] of [['capability', envelope.capability], ['credential', envelope.credential]] as const) {
      const problem = value === undefined ? undefined : nameProblem(kind, value)
      if (problem) throw new AivaultError('invalid_request', `the envelope's ${kind} ${problem.message}`, {hint: problem.hint})
    }
    return {envelope, context: parseContext(raw.context)}
  } catch (error) {
    const context = raw.context !== null && typeof raw.context === 'object' ? (raw.context as InvocationContext) : undefined
    await auditRefusal(vault, {kind: 'capability.invoke', ...claimed(raw.envelope), context, startedAt}, error).catch(() => {})
    throw error
  }
}

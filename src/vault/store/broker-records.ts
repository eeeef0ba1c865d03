/**
 * Records the broker reads: custom capabilities, per-capability policies and bindings
 * (SPEC §6). Each is one YAML file; the vault layer validates shape, the broker decides.
 */
import type {CapabilityAllow} from '../../registry/types'
import {tamperedRecord} from './record-store'

export interface CustomCapability {
  id: string
  /** The provider whose credentials serve it, or a specific credential. */
  provider: string
  credential: string | null
  allow: CapabilityAllow
  createdAt: string
}

export interface CapabilityPolicy {
  /** The capability id. */
  id: string
  rateLimitPerMinute: number | null
  maxRequestBodyBytes: number | null
  maxResponseBodyBytes: number | null
  responseBlock: string[]
}

export interface Binding {
  /** Derived from its target: `<capability>` plus scope and consumer parts. */
  id: string
  capability: string
  /** The credential whose auth and hosts serve the call, or null to use normal resolution. */
  credential: string | null
  /** The secret the binding picks (`vault:secret:<id>`), or null to use the credential's own. */
  secretRef: string | null
  workspaceId: string | null
  groupId: string | null
  consumer: string | null
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string')
const optString = (v: unknown): v is string | null | undefined => v === null || v === undefined || typeof v === 'string'
const optCount = (v: unknown): v is number | null | undefined => v === null || v === undefined || (Number.isSafeInteger(v) && (v as number) >= 0)

export function parseCustomCapability(raw: unknown, file: string, id: string): CustomCapability {
  const r = (raw ?? {}) as Record<string, unknown>
  const allow = (r.allow ?? {}) as Record<string, unknown>
  if (r.id !== id) throw tamperedRecord(file, 'id does not match the file name')
  if (typeof r.provider !== 'string' || !optString(r.credential)) throw tamperedRecord(file, 'invalid provider or credential')
  if (!isStringArray(allow.hosts) || !isStringArray(allow.methods) || !isStringArray(allow.pathPrefixes)) throw tamperedRecord(file, 'invalid allow block')
  if (allow.methods.length === 0 || allow.pathPrefixes.length === 0) throw tamperedRecord(file, 'empty allow lists (never allow-all)')
  return {
    id,
    provider: r.provider,
    credential: (r.credential as string | null | undefined) ?? null,
    allow: {hosts: allow.hosts, methods: allow.methods, pathPrefixes: allow.pathPrefixes},
    createdAt: typeof r.createdAt === 'string' ? r.createdAt : '',
  }
}

export function serializeCustomCapability(c: CustomCapability): Record<string, unknown> {
  return {id: c.id, provider: c.provider, credential: c.credential, allow: {hosts: c.allow.hosts, methods: c.allow.methods, pathPrefixes: c.allow.pathPrefixes}, createdAt: c.createdAt}
}

export function parsePolicy(raw: unknown, file: string, id: string): CapabilityPolicy {
  const r = (raw ?? {}) as Record<string, unknown>
  if (r.capability !== id) throw tamperedRecord(file, 'capability does not match the file name')
  if (!optCount(r.rateLimitPerMinute) || !optCount(r.maxRequestBodyBytes) || !optCount(r.maxResponseBodyBytes)) throw tamperedRecord(file, 'invalid limits')
  const block = r.responseBlock ?? []
  if (!isStringArray(block)) throw tamperedRecord(file, 'invalid responseBlock')
  return {
    id,
    rateLimitPerMinute: (r.rateLimitPerMinute as number | null | undefined) ?? null,
    maxRequestBodyBytes: (r.maxRequestBodyBytes as number | null | undefined) ?? null,
    maxResponseBodyBytes: (r.maxResponseBodyBytes as number | null | undefined) ?? null,
    responseBlock: block,
  }
}

export function serializePolicy(p: CapabilityPolicy): Record<string, unknown> {
  return {
    capability: p.id,
    rateLimitPerMinute: p.rateLimitPerMinute,
    maxRequestBodyBytes: p.maxRequestBodyBytes,
    maxResponseBodyBytes: p.maxResponseBodyBytes,
    responseBlock: [...p.responseBlock].sort(),
  }
}

export function parseBinding(raw: unknown, file: string, id: string): Binding {
  const r = (raw ?? {}) as Record<string, unknown>
  if (r.id !== id) throw tamperedRecord(file, 'id does not match the file name')
  if (typeof r.capability !== 'string') throw tamperedRecord(file, 'invalid capability')
  for (const field of ['credential', 'secretRef', 'workspaceId', 'groupId', 'consumer']) {
    if (!optString(r[field])) throw tamperedRecord(file, `invalid ${field}`)
  }
  if (!r.credential && !r.secretRef) throw tamperedRecord(file, 'a binding names a credential or a secret')
  const get = (field: string) => (r[field] as string | null | undefined) ?? null
  return {id, capability: r.capability, credential: get('credential'), secretRef: get('secretRef'), workspaceId: get('workspaceId'), groupId: get('groupId'), consumer: get('consumer')}
}

export function serializeBinding(b: Binding): Record<string, unknown> {
  return {id: b.id, capability: b.capability, credential: b.credential, secretRef: b.secretRef, workspaceId: b.workspaceId, groupId: b.groupId, consumer: b.consumer}
}

/** One binding per capability + scope + consumer: the id says which, so two clones adding different bindings never touch the same file. */
export function bindingId(capability: string, scope: {workspaceId?: string | null; groupId?: string | null; consumer?: string | null}): string {
  const parts = [capability]
  if (scope.workspaceId) parts.push(`ws:${scope.workspaceId}`)
  if (scope.groupId) parts.push(`group:${scope.groupId}`)
  if (scope.consumer) parts.push(`consumer:${scope.consumer}`)
  return parts.join('@')
}

import type {AuthSpec} from '../../registry/types'
import {tamperedRecord} from './record-store'

export const SECRET_REF = /^vault:secret:([0-9a-f-]{36})$/

/**
 * A credential says how secrets authenticate to a provider's hosts. For registry providers
 * the auth strategy and hosts always come from the built-in registry (`auth` is absent and
 * `hosts` may only narrow); custom providers carry their own `auth` and exact `hosts`.
 */
export interface CredentialRecord {
  id: string
  provider: string
  auth: AuthSpec | null
  hosts: string[]
  /** Placeholder -> `vault:secret:<id>`; a multi-secret provider lists each component secret. */
  secretRefs: Record<string, string>
  workspaceId: string | null
  groupId: string | null
  autoProvisioned: boolean
  createdAt: string
}

export function serializeCredential(record: CredentialRecord): Record<string, unknown> {
  const refs = Object.fromEntries(Object.entries(record.secretRefs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  return {
    id: record.id,
    provider: record.provider,
    auth: record.auth,
    hosts: [...record.hosts],
    secretRefs: refs,
    workspaceId: record.workspaceId,
    groupId: record.groupId,
    autoProvisioned: record.autoProvisioned,
    createdAt: record.createdAt,
  }
}

export function secretIdOfRef(ref: string): string | undefined {
  return SECRET_REF.exec(ref)?.[1]
}

export function parseCredentialRecord(raw: unknown, file: string, expectedId: string): CredentialRecord {
  const bad = (why: string) => tamperedRecord(file, why)
  if (!raw || typeof raw !== 'object') throw bad('not a credential record')
  const r = raw as Record<string, unknown>
  if (typeof r.id !== 'string' || r.id !== expectedId) throw bad('id does not match the file name')
  if (typeof r.provider !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(r.provider)) throw bad('invalid provider')
  if (r.auth !== null && (typeof r.auth !== 'object' || Array.isArray(r.auth) || Object.keys(r.auth as object).length !== 1)) throw bad('invalid auth')
  if (!Array.isArray(r.hosts) || !r.hosts.every((h) => typeof h === 'string')) throw bad('invalid hosts')
  const refs = r.secretRefs as Record<string, unknown> | undefined
  if (!refs || typeof refs !== 'object' || Object.keys(refs).length === 0) throw bad('no secretRefs')
  for (const value of Object.values(refs)) if (typeof value !== 'string' || !SECRET_REF.test(value)) throw bad('invalid secret reference')
  const optionalId = (v: unknown) => v === null || v === undefined || typeof v === 'string'
  if (!optionalId(r.workspaceId) || !optionalId(r.groupId)) throw bad('invalid scope ids')
  if (typeof r.createdAt !== 'string') throw bad('invalid createdAt')
  return {
    id: r.id,
    provider: r.provider,
    auth: (r.auth as AuthSpec | null) ?? null,
    hosts: r.hosts as string[],
    secretRefs: refs as Record<string, string>,
    workspaceId: (r.workspaceId as string | null | undefined) ?? null,
    groupId: (r.groupId as string | null | undefined) ?? null,
    autoProvisioned: r.autoProvisioned === true,
    createdAt: r.createdAt,
  }
}

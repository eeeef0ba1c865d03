import {SECRET_NAME} from '../names'
import type {SecretScope} from '../scope'
import {parseScope} from '../scope'
import type {SealedValue} from '../keys/seal'
import {tamperedRecord} from './record-store'

/** (The rule for new names, with its length cap, is names.ts; records are read with the pattern.) */
export {SECRET_NAME} from '../names'

export interface AttachedGroup {
  workspaceId: string
  groupId: string
}

/** Everything about a secret except its sealed value: what lists and JSON output show. */
export interface SecretMeta {
  id: string
  name: string
  aliases: string[]
  scope: SecretScope
  pinnedProvider: string | null
  /**
   * The tenant host a per-tenant provider's key is bound to (SPEC §4), set once a credential
   * names one. Part of the sealed value's associated data, so editing it breaks the record.
   */
  tenantHost?: string
  attachedGroups: AttachedGroup[]
  systemManaged: boolean
  valueVersion: number
  createdAt: string
  updatedAt: string
}

export interface SecretRecord extends SecretMeta {
  sealed: SealedValue
}

export function secretMeta(record: SecretRecord): SecretMeta {
  const {sealed: _sealed, ...meta} = record
  return meta
}

/** Fixed key order, so rewriting an unchanged record yields identical bytes. */
export function serializeSecret(record: SecretRecord): Record<string, unknown> {
  return {
    id: record.id,
    name: record.name,
    aliases: [...new Set(record.aliases)].sort(),
    scope: record.scope,
    pinnedProvider: record.pinnedProvider,
    ...(record.tenantHost ? {tenantHost: record.tenantHost} : {}),
    attachedGroups: sortGroups(record.attachedGroups),
    systemManaged: record.systemManaged,
    valueVersion: record.valueVersion,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    sealed: {
      alg: record.sealed.alg,
      nonce: record.sealed.nonce,
      ciphertext: record.sealed.ciphertext,
      dek: {nonce: record.sealed.dek.nonce, ciphertext: record.sealed.dek.ciphertext, kekId: record.sealed.dek.kekId},
    },
  }
}

export function sortGroups(groups: AttachedGroup[]): AttachedGroup[] {
  const seen = new Map(groups.map((g) => [`${g.workspaceId}\0${g.groupId}`, {workspaceId: g.workspaceId, groupId: g.groupId}]))
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => g)
}

const isString = (v: unknown): v is string => typeof v === 'string'
const isB64 = (v: unknown): v is string => isString(v) && /^[A-Za-z0-9+/]+={0,2}$/.test(v)

/** Validate a parsed record; any deviation is `vault_tampered` naming the file. */
export function parseSecretRecord(raw: unknown, file: string): SecretRecord {
  const bad = (why: string) => tamperedRecord(file, why)
  if (!raw || typeof raw !== 'object') throw bad('not a secret record')
  const r = raw as Record<string, unknown>
  if (!isString(r.id) || !/^[0-9a-f-]{36}$/.test(r.id)) throw bad('invalid id')
  if (!isString(r.name) || !SECRET_NAME.test(r.name)) throw bad('invalid name')
  if (!Array.isArray(r.aliases) || !r.aliases.every((a) => isString(a) && SECRET_NAME.test(a))) throw bad('invalid aliases')
  const scope = parseScope(r.scope)
  if (!scope) throw bad('invalid scope')
  if (r.pinnedProvider !== null && r.pinnedProvider !== undefined && !isString(r.pinnedProvider)) throw bad('invalid pinnedProvider')
  if (r.tenantHost !== undefined && (!isString(r.tenantHost) || !/^[a-z0-9.-]{1,253}$/.test(r.tenantHost))) throw bad('invalid tenantHost')
  const groups = r.attachedGroups ?? []
  if (!Array.isArray(groups) || !groups.every((g) => g && isString(g.workspaceId) && isString(g.groupId))) throw bad('invalid attachedGroups')
  if (!Number.isInteger(r.valueVersion) || (r.valueVersion as number) < 1) throw bad('invalid valueVersion')
  if (!isString(r.createdAt) || !isString(r.updatedAt)) throw bad('invalid timestamps')
  const s = r.sealed as Record<string, unknown> | undefined
  const dek = s?.dek as Record<string, unknown> | undefined
  if (!s || !isString(s.alg) || !isB64(s.nonce) || !isB64(s.ciphertext) || !dek || !isB64(dek.nonce) || !isB64(dek.ciphertext) || !isString(dek.kekId)) {
    throw bad('invalid sealed block')
  }
  return {
    id: r.id,
    name: r.name,
    aliases: r.aliases as string[],
    scope,
    pinnedProvider: (r.pinnedProvider as string | null | undefined) ?? null,
    ...(r.tenantHost ? {tenantHost: r.tenantHost as string} : {}),
    attachedGroups: groups as AttachedGroup[],
    systemManaged: r.systemManaged === true,
    valueVersion: r.valueVersion as number,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    sealed: {alg: s.alg, nonce: s.nonce, ciphertext: s.ciphertext, dek: {nonce: dek.nonce, ciphertext: dek.ciphertext, kekId: dek.kekId}},
  }
}

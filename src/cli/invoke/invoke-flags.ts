import * as path from 'node:path'

import type {Interfaces} from '@oclif/core'
import {Flags} from '@oclif/core'

import type {Envelope, EnvelopeRequest} from '../../broker/request/envelope'
import {parseEnvelope, parseRequest} from '../../broker/request/envelope'
import {auditRefusal} from '../../broker/request/refusals'
import type {InvocationContext} from '../../broker/credential/resolve-credential'
import {usageError} from '../../errors'
import {Vault} from '../../vault/vault'
import {checkName, readInputFile, splitKeyValue, within} from '../flags'
import {contextFromFlags} from './invocation-context'

export {contextFromFlags}
import type {InvokeFlagSpec} from './invoke-flag-table'
import {FAIL_FLAG_TABLE, INVOKE_FLAG_TABLE, splitHeaderFlag} from './invoke-flag-table'

type OclifFlagOf<S extends InvokeFlagSpec> = S['kind'] extends 'boolean'
  ? Interfaces.BooleanFlag<boolean>
  : S['kind'] extends 'integer'
    ? Interfaces.OptionFlag<number | undefined>
    : S extends {multiple: true}
      ? Interfaces.OptionFlag<string[] | undefined>
      : Interfaces.OptionFlag<string | undefined>

function oclifFlag(spec: InvokeFlagSpec) {
  const common = {description: spec.description, ...(spec.char ? {char: spec.char} : {}), ...(spec.exclusive ? {exclusive: [...spec.exclusive]} : {})}
  if (spec.kind === 'boolean') return Flags.boolean(common)
  if (spec.kind === 'integer') return Flags.integer({...common, ...(spec.range ? within(...spec.range) : {})})
  return spec.multiple ? Flags.string({...common, multiple: true}) : Flags.string(common)
}

/** The oclif flags of a table of invoke-flag-table.ts. */
function oclifFlags<T extends Record<string, InvokeFlagSpec>>(table: T): {[K in keyof T]: OclifFlagOf<T[K]>} {
  return Object.fromEntries(Object.entries(table).map(([name, spec]) => [name, oclifFlag(spec)])) as {[K in keyof T]: OclifFlagOf<T[K]>}
}

function headerOf(raw: string, position: number): {name: string; value: string} {
  const header = splitHeaderFlag(raw)
  if (!header) throw usageError(`--header number ${position} is not NAME=VALUE or "Name: value" (no name before "=" or ":")`, 'write it as --header NAME=VALUE or -H "Name: value"')
  return header
}

/** Flags of `invoke`, `json`, `markdown` and their `capability ...` aliases (SPEC §9). */
export const invokeFlags = oclifFlags(INVOKE_FLAG_TABLE)
export const failFlag = oclifFlags(FAIL_FLAG_TABLE)

export type InvokeFlagValues = {
  method?: string
  path?: string
  header?: string[]
  body?: string
  'body-file-path'?: string
  request?: string
  'request-file'?: string
  'multipart-field'?: string[]
  'multipart-file'?: string[]
  credential?: string
  'workspace-id'?: string
  'group-id'?: string
  consumer?: string
  'client-ip'?: string
  'timeout-ms'?: number
}

const REQUEST_FLAGS = ['method', 'path', 'header', 'body', 'body-file-path', 'multipart-field', 'multipart-file'] as const

/** Build the envelope from flags. Files named by flags are read here, by the calling process. */
export function envelopeFromFlags(capability: string, flags: InvokeFlagValues): Envelope {
  checkName('capability', capability, 'capability')
  let envelope: Envelope
  if (flags.request !== undefined || flags['request-file'] !== undefined) {
    const given = REQUEST_FLAGS.filter((f) => flags[f] !== undefined)
    if (given.length > 0) throw usageError(`--${given[0]} cannot be combined with --request/--request-file`)
    const text = flags.request ?? readInputFile(flags['request-file'] as string, '--request-file').toString('utf8')
    let raw: unknown
    try {
      raw = JSON.parse(text)
    } catch {
      throw usageError('--request is not valid JSON')
    }
    const whole = raw !== null && typeof raw === 'object' && 'request' in (raw as object)
    envelope = whole ? parseEnvelope({capability, ...(raw as object)}) : {capability, request: parseRequest((raw ?? {}) as Record<string, unknown>)}
    if (envelope.capability !== capability) throw usageError(`the envelope names ${envelope.capability}, but the command names ${capability}`)
  } else {
    const request: EnvelopeRequest = {}
    if (flags.method) request.method = flags.method
    if (flags.path !== undefined) request.path = flags.path
    if (flags.header) request.headers = flags.header.map((h, i) => headerOf(h, i + 1))
    if (flags.body !== undefined) request.body = flags.body
    if (flags['body-file-path'] !== undefined) request.bodyBase64 = readInputFile(flags['body-file-path'], '--body-file-path').toString('base64')
    if (flags['multipart-field']) request.multipart = flags['multipart-field'].map((f, i) => splitKeyValue(f, '--multipart-field', i + 1)).map(([name, value]) => ({name, value}))
    if (flags['multipart-file']) {
      request.multipartFiles = flags['multipart-file'].map((f, i) => {
        const [name, file] = splitKeyValue(f, '--multipart-file', i + 1)
        return {name, filename: path.basename(file), dataBase64: readInputFile(file, '--multipart-file').toString('base64')}
      })
    }
    envelope = parseEnvelope({capability, request})
  }
  if (flags.credential) envelope.credential = flags.credential
  if (envelope.credential !== undefined) checkName('credential', envelope.credential, '--credential')
  if (flags['timeout-ms']) envelope.timeoutMs = flags['timeout-ms']
  return envelope
}

/**
 * The envelope and context of a call from flags. A call refused here, before the broker, is
 * audited like one the broker refuses (capability.invoke with its error): N calls, N events.
 */
export async function invocationFromFlags(capability: string, flags: InvokeFlagValues): Promise<{envelope: Envelope; context: InvocationContext}> {
  const startedAt = Date.now()
  try {
    return {envelope: envelopeFromFlags(capability, flags), context: contextFromFlags(flags)}
  } catch (error) {
    const context = {workspaceId: flags['workspace-id'], groupId: flags['group-id'], consumer: flags.consumer, clientIp: flags['client-ip']}
    await auditRefusal(Vault.fromEnv(), {kind: 'capability.invoke', capability, credential: flags.credential, context, startedAt}, error).catch(() => {})
    throw error
  }
}

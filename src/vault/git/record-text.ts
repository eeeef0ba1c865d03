/**
 * The readable form of a vault file that `git diff` and `git log -p` show through the textconv
 * driver (`aivault git setup`, SPEC §11): a secret's metadata and "value: version N" instead of
 * its sealed block, other records as their YAML. Needs no key and no vault: git hands it any
 * file (a blob of history, a conflicted or hand-broken file), so it never throws, and it never
 * prints sealed data or anything else that looks encoded (a short fingerprint stands in).
 */
import {isUtf8} from 'node:buffer'
import {createHash} from 'node:crypto'
import * as fs from 'node:fs'

import {splitConflict, hasConflictMarkers} from './conflict-sides'
import {MAX_RECORD_BYTES} from '../store/vault-file'
import {fromYaml, toYaml} from '../store/yaml-codec'

type Fields = Record<string, unknown>

const isMap = (v: unknown): v is Fields => v !== null && typeof v === 'object' && !Array.isArray(v)

const fingerprint = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 8)

/**
 * A run of base64 characters longer than 16 that holds a digit, `+` or `=` reads as encoded
 * data (a nonce, a MAC, a key); a path (`/v1/chat/completions`) or a plain word does not.
 */
const ENCODED_RUN = /[A-Za-z0-9+/=]{17,}/g

export function elideEncoded(text: string): string {
  return text.replace(ENCODED_RUN, (run) => (!run.startsWith('/') && /[0-9+=]/.test(run) ? `<encoded ${fingerprint(run)}>` : run))
}

/** One printable line: anything else (newlines, escapes) is shown quoted, so a file cannot forge diff lines. */
function show(value: unknown): string {
  if (typeof value === 'string' && /^[\x20-\x7e]*$/.test(value)) return elideEncoded(value)
  return elideEncoded(JSON.stringify(value) ?? String(value))
}

/** The scope as scopeLabel writes it everywhere else (`workspace:<w>`, `group:<w>/<g>`), each part shown safely. */
function scopeText(scope: unknown): string {
  if (!isMap(scope)) return show(scope)
  if (scope.type === 'global') return 'global'
  if (scope.type === 'workspace') return `workspace:${show(scope.workspaceId)}`
  if (scope.type === 'group') return `group:${show(scope.workspaceId)}/${show(scope.groupId)}`
  return show(scope)
}

const listText = (value: unknown): string => (Array.isArray(value) ? (value.length === 0 ? 'none' : value.map((v) => show(v)).join(', ')) : show(value))

function groupsText(value: unknown): string {
  if (!Array.isArray(value) || value.length === 0) return Array.isArray(value) ? 'none' : show(value)
  return value.map((g) => (isMap(g) ? `${show(g.workspaceId)}/${show(g.groupId)}` : show(g))).join(', ')
}

/** "version 3, sealed (...)": the version and a fingerprint of the ciphertext, never the ciphertext. */
function valueText(record: Fields): string {
  const version = Number.isInteger(record.valueVersion) ? `version ${record.valueVersion}` : `version ${show(record.valueVersion)} (invalid)`
  const sealed = record.sealed
  if (!isMap(sealed)) return `${version}, no sealed value`
  const dek = isMap(sealed.dek) ? sealed.dek : {}
  const data = fingerprint(`${String(sealed.nonce)}:${String(sealed.ciphertext)}`)
  const alg = sealed.alg === 'xchacha20poly1305-ietf' ? 'XChaCha20-Poly1305' : show(sealed.alg)
  return `${version}, sealed (${alg}, data ${data}, master key ${show(dek.kekId)})`
}

const SECRET_FIELDS = ['id', 'name', 'aliases', 'scope', 'pinnedProvider', 'tenantHost', 'attachedGroups', 'systemManaged', 'valueVersion', 'createdAt', 'updatedAt', 'sealed']

function renderSecret(record: Fields): string[] {
  const lines = [`secret ${show(record.name)}`]
  const field = (label: string, value: string) => lines.push(`  ${`${label}:`.padEnd(16)}${value}`)
  field('id', show(record.id))
  field('scope', scopeText(record.scope))
  field('aliases', listText(record.aliases))
  field('pinned to', record.pinnedProvider === null || record.pinnedProvider === undefined ? 'no provider' : show(record.pinnedProvider))
  if (record.tenantHost !== undefined) field('tenant host', show(record.tenantHost))
  field('groups', groupsText(record.attachedGroups))
  field('system managed', record.systemManaged === true ? 'yes' : 'no')
  field('created', show(record.createdAt))
  field('updated', show(record.updatedAt))
  field('value', valueText(record))
  for (const [key, value] of Object.entries(record)) if (!SECRET_FIELDS.includes(key)) field(`(other) ${show(key)}`, show(value))
  return lines
}

/** What a record is, judged by its fields (git's temporary files keep no folder name). */
function kindOf(record: Fields): string {
  if ('vaultId' in record && 'keyProvider' in record) return 'vault'
  if ('secretRefs' in record) return 'credential'
  if ('allow' in record) return 'capability'
  if ('responseBlock' in record || 'rateLimitPerMinute' in record) return 'policy'
  if ('capability' in record && ('secretRef' in record || 'consumer' in record)) return 'binding'
  return 'record'
}

function elideDeep(value: unknown): unknown {
  if (typeof value === 'string') return elideEncoded(value)
  if (Array.isArray(value)) return value.map((v) => elideDeep(v))
  if (isMap(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, elideDeep(v)]))
  return value
}

function renderRecord(record: Fields): string[] {
  if (isMap(record.sealed) || 'valueVersion' in record) return renderSecret(record)
  const kind = kindOf(record)
  const id = kind === 'vault' ? record.vaultId : kind === 'policy' ? record.capability : record.id
  const body = toYaml(elideDeep(record) as Fields).replace(/\n$/, '')
  return [`${kind}${id === undefined ? '' : ` ${show(id)}`}`, ...body.split('\n').map((line) => `  ${line}`)]
}

/** Lines of a file that is not a record, with anything encoded or unprintable replaced. */
function rawLines(text: string): string[] {
  // eslint-disable-next-line no-control-regex -- control characters are what is replaced
  return text.replace(/\n$/, '').split('\n').map((line) => `  ${elideEncoded(line.replace(/[\u0000-\u001f\u007f]/g, '?'))}`)
}

function renderText(text: string): string[] {
  let raw: unknown
  try {
    raw = fromYaml(text)
  } catch (error) {
    return [`not a valid record (malformed YAML: ${show((error as Error).message.split('\n')[0])})`, ...rawLines(text)]
  }
  if (!isMap(raw)) return ['not a valid record (not a YAML map)', ...rawLines(text)]
  return renderRecord(raw)
}

function renderConflict(text: string): string[] {
  const sides = splitConflict(text)
  if (!sides) return ['conflicted file with unpaired git conflict markers (run "aivault doctor")', ...rawLines(text)]
  const indent = (lines: string[]) => lines.map((line) => `  ${line}`)
  return [
    'conflicted: both sides changed this file (run "aivault doctor" to see how to resolve it)',
    `--- ours (${show(sides.oursLabel)})`,
    ...indent(renderText(sides.ours)),
    `--- theirs (${show(sides.theirsLabel)})`,
    ...indent(renderText(sides.theirs)),
  ]
}

/** The readable form of a file's bytes. */
export function recordText(bytes: Uint8Array): string {
  try {
    if (bytes.length > MAX_RECORD_BYTES) return `file of ${bytes.length} bytes, larger than any record: not shown\n`
    if (bytes.includes(0) || !isUtf8(bytes)) return `binary file of ${bytes.length} bytes: not shown\n`
    const text = Buffer.from(bytes).toString('utf8')
    if (text.trim() === '') return ''
    const lines = hasConflictMarkers(text) ? renderConflict(text) : renderText(text)
    return lines.join('\n') + '\n'
  } catch {
    return 'this file could not be shown\n'
  }
}

/** The textconv driver: the readable form of the file git names, whatever it holds. */
export function textconvFile(file: string): string {
  let stat: fs.Stats
  try {
    stat = fs.statSync(file)
  } catch (error) {
    return `cannot read this file (${(error as NodeJS.ErrnoException).code ?? 'error'})\n`
  }
  if (!stat.isFile()) return 'not a regular file: not shown\n'
  if (stat.size > MAX_RECORD_BYTES) return `file of ${stat.size} bytes, larger than any record: not shown\n`
  try {
    return recordText(fs.readFileSync(file))
  } catch (error) {
    return `cannot read this file (${(error as NodeJS.ErrnoException).code ?? 'error'})\n`
  }
}

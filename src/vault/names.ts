/**
 * The names and ids that come from outside (flags, envelopes, daemon frames, proxy tokens):
 * one rule per kind, a pattern and a maximum length (README "Limits"). Records already on disk
 * are read with the patterns only, so a vault written before the caps were set still opens.
 */
import {usageError} from '../errors'
import {encodeRecordFileName} from './store/paths'

export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/
export const SCOPE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/

/** The longest file name common file systems accept, in bytes (record file names are ASCII). */
const MAX_FILE_NAME = 255

export type NameKind = 'secret' | 'workspace' | 'group' | 'provider' | 'credential' | 'capability' | 'consumer'

interface NameRule {
  what: string
  pattern: RegExp
  max: number
  /** What the pattern allows, for the hint. */
  allowed: string
  /** The name is also a record's file name (credentials/, capabilities/, policies/). */
  fileName?: boolean
}

const LETTERS = 'letters, digits, ".", "_" or "-"'

/**
 * Credential and capability ids are also file names (credentials/, capabilities/, policies/),
 * so they stay under 255 bytes once encoded. Workspace and group ids stay short because
 * auto-provisioned credential ids embed both (`<provider>:group:<w>:<g>`).
 */
const RULES: Record<NameKind, NameRule> = {
  secret: {what: 'secret name', pattern: SECRET_NAME, max: 256, allowed: `${LETTERS}, starting with a letter or "_"`},
  workspace: {what: 'workspace id', pattern: SCOPE_ID, max: 64, allowed: `${LETTERS}, starting with a letter or digit`},
  group: {what: 'group id', pattern: SCOPE_ID, max: 64, allowed: `${LETTERS}, starting with a letter or digit`},
  provider: {what: 'provider id', pattern: /^[a-z0-9][a-z0-9-]*$/, max: 64, allowed: 'lower-case letters, digits and "-"'},
  credential: {what: 'credential id', pattern: /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, max: 200, allowed: `${LETTERS} or ":"`, fileName: true},
  capability: {what: 'capability id', pattern: /^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/, max: 200, allowed: `${LETTERS}, ":" or "/"`, fileName: true},
  // eslint-disable-next-line no-control-regex -- a consumer name is one line of printable text
  consumer: {what: 'consumer name', pattern: /^[^\u0000-\u001f\u007f]+$/, max: 256, allowed: 'printable characters'},
}

/**
 * What is wrong with `value` as a name of this kind (a message that starts with the value,
 * quoted when it is short), or undefined when it is fine.
 */
export function nameProblem(kind: NameKind, value: string): {message: string; hint: string} | undefined {
  const rule = RULES[kind]
  const shown = value.length <= 80 ? JSON.stringify(value) : `(${value.length} characters)`
  if (value.length > rule.max) return {message: `${shown} is longer than ${rule.max} characters`, hint: `a ${rule.what} has at most ${rule.max} characters`}
  if (!rule.pattern.test(value)) return {message: `${shown} is not a valid ${rule.what}`, hint: `use ${rule.allowed}`}
  if (rule.fileName && !fitsFileName(value)) {
    return {message: `${shown} is too long for a record file name`, hint: `shorten it: characters other than ${LETTERS} take three of the file name's ${MAX_FILE_NAME} bytes`}
  }
  return undefined
}

/** A name or id given on the command line (`flag`), by the rule of its kind; a usage error (exit 2) otherwise. */
export function checkName(kind: NameKind, value: string, flag: string): string {
  const problem = nameProblem(kind, value)
  if (problem) throw usageError(`${flag} ${problem.message}`, problem.hint)
  return value
}

export function isValidName(kind: NameKind, value: string): boolean {
  return nameProblem(kind, value) === undefined
}

/** Whether a record id (a credential, capability, policy or binding id) gives a file name the file system accepts. */
export function fitsFileName(id: string): boolean {
  return encodeRecordFileName(id).length <= MAX_FILE_NAME
}

/** An alias that repeats the secret's own name, if any: an alias is another name, never the same one. */
export function selfAlias(name: string, aliases: readonly string[]): string | undefined {
  return aliases.find((alias) => alias === name)
}

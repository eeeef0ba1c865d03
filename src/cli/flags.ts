import {isUtf8} from 'node:buffer'
import * as fs from 'node:fs'

import {Errors, Flags} from '@oclif/core'

import {AivaultError, usageError} from '../errors'
import {checkName, selfAlias} from '../vault/names'
import type {SecretScope} from '../vault/scope'
import {scopeFromFlags} from '../vault/scope'

/** Flags shared by commands that address a scope (SPEC §3). */
export const scopeFlags = {
  scope: Flags.string({description: 'Scope of the secret.', options: ['global', 'workspace', 'group']}),
  'workspace-id': Flags.string({description: 'Workspace id (workspace and group scopes).'}),
  'group-id': Flags.string({description: 'Group id (group scope).'}),
}

export const valueFlags = {
  value: Flags.string({description: 'The secret value (visible in the process list: prefer --value-file or --value-stdin).'}),
  'value-file': Flags.string({description: 'Read the value from this file.'}),
  'value-stdin': Flags.boolean({description: 'Read the value from standard input.'}),
}

export const VALUE_FLAG_NAMES = ['value', 'value-file', 'value-stdin'] as const

export function parseScope(flags: {scope?: string; 'workspace-id'?: string; 'group-id'?: string}): SecretScope {
  return scopeFromFlags(flags)
}

export {checkName}

export function checkSecretName(name: string, flag = '--name'): string {
  return checkName('secret', name, flag)
}

/** A secret's name and aliases: each valid, and no alias that repeats the name. */
export function checkSecretNames(name: string, aliases: readonly string[], nameFlag = '--name'): {name: string; aliases: string[]} {
  checkSecretName(name, nameFlag)
  for (const alias of aliases) checkSecretName(alias, '--alias')
  if (selfAlias(name, aliases)) throw usageError(`--alias ${name} repeats the secret's name`, 'an alias is another name for the secret: leave this one out')
  return {name, aliases: [...aliases]}
}

/**
 * Options for `Flags.integer` that keep the value in [min, max]: anything else (a fraction, a
 * word, a number too large to hold exactly) is a usage error naming the flag and the range.
 * Use: `Flags.integer({description, ...within(0, MAX)})`.
 */
export function within(min: number, max: number) {
  return {
    min,
    max,
    async parse(input: string): Promise<number> {
      const value = /^-?\d+$/.test(input) ? Number(input) : Number.NaN
      if (!(value >= min && value <= max)) {
        const shown = input.length <= 30 ? JSON.stringify(input) : `a ${input.length}-character value`
        throw new Errors.CLIError(`expected an integer from ${min} to ${max}, got ${shown}`, {exit: 2})
      }
      return value
    },
  }
}

/** Exactly one of --value, --value-file, --value-stdin (a usage error otherwise). */
export function requireOneValueFlag(flags: {value?: string; 'value-file'?: string; 'value-stdin'?: boolean}): void {
  const given = VALUE_FLAG_NAMES.filter((name) => flags[name] !== undefined && flags[name] !== false)
  if (given.length !== 1) {
    throw usageError(given.length === 0 ? 'a value is required' : `use only one of ${given.map((g) => '--' + g).join(', ')}`, 'pass exactly one of --value, --value-file, --value-stdin')
  }
}

/** Strip one trailing newline: `echo $KEY | aivault ...` must not store "key\n". */
function trimFinalNewline(bytes: Buffer): Buffer {
  if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0a) bytes = bytes.subarray(0, bytes.length - (bytes.length > 1 && bytes[bytes.length - 2] === 0x0d ? 2 : 1))
  return bytes
}

/** The value bytes from whichever value flag was given. Errors never echo the value. */
export function readValue(flags: {value?: string; 'value-file'?: string; 'value-stdin'?: boolean}): Uint8Array {
  if (flags.value !== undefined) return new Uint8Array(Buffer.from(flags.value, 'utf8'))
  if (flags['value-file'] !== undefined) return new Uint8Array(trimFinalNewline(readInputFile(flags['value-file'], '--value-file')))
  return new Uint8Array(trimFinalNewline(fs.readFileSync(0)))
}

/**
 * A text file named by a flag (e.g. a dotenv file): invalid UTF-8 is refused rather than
 * decoded with replacement characters, which would store a different value than the file holds.
 */
export function readTextFile(file: string, flag: string): string {
  const bytes = readInputFile(file, flag)
  if (!isUtf8(bytes)) {
    throw new AivaultError('invalid_request', `${flag} ${file} is not UTF-8 text`, {
      hint: 'secret values are injected into HTTP headers and queries, which carry text: store binary keys base64- or hex-encoded',
    })
  }
  return bytes.toString('utf8')
}

export function readInputFile(file: string, flag: string): Buffer {
  try {
    return fs.readFileSync(file)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new AivaultError('invalid_request', `cannot read ${flag} ${file}: ${code === 'ENOENT' ? 'no such file' : code ?? 'unreadable'}`)
  }
}

/** `KEY=VALUE` flag values; a missing `=` is a usage error that never echoes the text (it may be a secret). */
export function splitKeyValue(raw: string, flag: string, position: number): [string, string] {
  const at = raw.indexOf('=')
  if (at <= 0) throw usageError(`${flag} number ${position} is not KEY=VALUE (no "=" after a name)`, `write it as ${flag} NAME=VALUE`)
  return [raw.slice(0, at), raw.slice(at + 1)]
}

/** `--workspace-id` and `--group-id` naming whom a credential or token serves; a group needs its workspace. */
export function parseTenantTarget(flags: {'workspace-id'?: string; 'group-id'?: string}): {workspaceId?: string; groupId?: string} {
  const workspaceId = flags['workspace-id'] === undefined ? undefined : checkName('workspace', flags['workspace-id'], '--workspace-id')
  const groupId = flags['group-id'] === undefined ? undefined : checkName('group', flags['group-id'], '--group-id')
  if (groupId && !workspaceId) throw usageError('--group-id needs --workspace-id')
  return {workspaceId, groupId}
}

/**
 * `aivault git setup` (SPEC §11): readable diffs of a vault kept in git. Two parts, both
 * idempotent: `.gitattributes` in the vault folder (committed, so every clone marks records
 * the same way) and the `aivault` diff driver in the repository's local git config (per clone:
 * it names this machine's node and CLI by absolute path, SPEC §15 Teams).
 */
import * as path from 'node:path'

import {AivaultError} from '../../errors'
import {writeFileAtomic} from '../store/atomic-file'
import {readVaultFile} from '../store/vault-file'
import type {Vault} from '../vault'
import {runGit, shellWord, workTreeTop} from './git'

/**
 * Every YAML file of the vault diffs through the driver. `eol=lf` keeps records byte-for-byte
 * canonical on a checkout with core.autocrlf. No merge driver: records merge as text, so two
 * clones touching different records never conflict and one record changed on both sides stops
 * the merge with markers that `aivault doctor` explains (a union merge would splice two
 * sealed blocks into one record).
 */
export const ATTRIBUTE_LINES = ['*.yaml text eol=lf diff=aivault']
const ATTRIBUTES_HEADER = '# aivault: readable diffs of records ("aivault git setup"); LF keeps their bytes canonical'
export const TEXTCONV_KEY = 'diff.aivault.textconv'

export interface GitSetupResult {
  /** The work tree holding the vault folder. */
  repository: string
  attributesFile: string
  attributes: 'created' | 'updated' | 'unchanged'
  /** The command git runs to show a record. */
  textconv: string
  config: 'set' | 'unchanged'
}

/** The driver's command: this node and this CLI by absolute path, then the hidden `git textconv`. */
export function textconvCommand(driver: {node: string; cli: string}): string {
  return `${shellWord(path.resolve(driver.node))} ${shellWord(path.resolve(driver.cli))} git textconv`
}

function writeAttributes(root: string): {file: string; state: GitSetupResult['attributes']} {
  const file = path.join(root, '.gitattributes')
  const current = readVaultFile(file, '.gitattributes')
  const have = new Set((current ?? '').split('\n').map((line) => line.trim()))
  const missing = ATTRIBUTE_LINES.filter((line) => !have.has(line))
  if (missing.length === 0) return {file, state: 'unchanged'}
  const before = current === undefined || current === '' ? '' : current.endsWith('\n') ? current : `${current}\n`
  const header = have.has(ATTRIBUTES_HEADER) ? [] : [ATTRIBUTES_HEADER]
  writeFileAtomic(file, before + [...header, ...missing].join('\n') + '\n', {root})
  return {file, state: current === undefined ? 'created' : 'updated'}
}

export function setupGit(vault: Vault, driver: {node: string; cli: string}): GitSetupResult {
  const {root} = vault.paths
  if (!vault.exists()) {
    throw new AivaultError('vault_unavailable', `no vault at ${root}`, {hint: 'clone your team\'s vault repository there, or run "aivault init" first'})
  }
  if (!runGit(root, ['--version'])) throw new AivaultError('not_found', 'git is not installed (no "git" on PATH)', {hint: 'install git, then run "aivault git setup" again'})
  const repository = workTreeTop(root)
  if (!repository) {
    throw new AivaultError('not_found', `the vault folder ${root} is not inside a git work tree`, {
      hint: `run "git init" there (or clone your team's vault repository), then "aivault git setup" again`,
    })
  }
  const attributes = writeAttributes(root)
  const textconv = textconvCommand(driver)
  const current = runGit(root, ['config', '--local', '--get', TEXTCONV_KEY])
  let config: GitSetupResult['config'] = 'unchanged'
  if (current?.status !== 0 || current.stdout.replace(/\n$/, '') !== textconv) {
    const set = runGit(root, ['config', '--local', TEXTCONV_KEY, textconv])
    if (!set || set.status !== 0) throw new AivaultError('invalid_request', `git config failed: ${set?.stderr.trim() || 'no output'}`)
    config = 'set'
  }
  return {repository, attributesFile: attributes.file, attributes: attributes.state, textconv, config}
}

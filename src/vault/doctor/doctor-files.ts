/**
 * doctor's look at the vault folder as files: permissions, leftover temp files, git conflict
 * markers, and links or special files where only regular files and folders belong (SPEC §1).
 * Nothing is followed: every entry is judged by lstat, a dangling link is reported like any
 * other, and `--fix` changes modes through a descriptor opened without following links.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

import {AivaultError} from '../../errors'
import {TEMP_SUFFIX} from '../store/atomic-file'
import type {DoctorFinding} from './doctor-finding'
import {explainConflict} from './doctor-merges'
import {hasConflictMarkers} from '../git/conflict-sides'
import {chmodNoFollow, DIR_MODE, entryKind, FILE_MODE, readVaultFile} from '../store/vault-file'

const TEMP_GRACE_MS = 10_000

interface Entry {
  /** Absolute path. */
  file: string
  /** As reported: relative to the vault root (the root itself by its path), or absolute for a key file outside it. */
  label: string
  stat: fs.Stats
  /** The key file outside the vault: a link to it is the operator's own, and followed. */
  outside?: boolean
}

/** Every entry under the root (not .git), by lstat: a link is an entry, never a way into a folder. */
function walk(root: string, dir: string, out: Entry[]): void {
  for (const name of fs.readdirSync(dir)) {
    if (name === '.git' || name === 'node_modules') continue
    const file = path.join(dir, name)
    const stat = fs.lstatSync(file, {throwIfNoEntry: false})
    if (!stat) continue // removed while walking
    out.push({file, label: path.relative(root, file).split(path.sep).join('/'), stat})
    if (stat.isDirectory()) walk(root, file, out)
  }
}

/** The daemon's socket lives in run/ (when AIVAULT_DIR is set): the one special file that belongs. */
const isDaemonSocket = (entry: Entry): boolean => entry.stat.isSocket() && /^run\/[^/]+\.sock$/.test(entry.label)

/** A link or special file where a record, log or folder belongs: reported, never followed or fixed. */
function linkFinding(entry: Entry): DoctorFinding | undefined {
  const {stat} = entry
  if (stat.isFile() || stat.isDirectory() || isDaemonSocket(entry)) return undefined
  const what = stat.isSymbolicLink()
    ? 'is a symbolic link: aivault never follows links in the vault folder'
    : `is ${entryKind(stat)}: only regular files and folders belong in the vault folder`
  return {check: 'links', file: entry.label, problem: `${what}; replace it with the real file (git checkout) or remove it`, fixed: false, code: 'vault_tampered'}
}

/** The mode an entry should have and has, when it is looser: undefined for links, special files and tight ones. */
function looseMode(stat: fs.Stats): {mode: number; want: number} | undefined {
  if (!stat.isFile() && !stat.isDirectory()) return undefined
  const mode = stat.mode & 0o777
  const want = stat.isDirectory() ? DIR_MODE : FILE_MODE
  return (mode & ~want) === 0 ? undefined : {mode, want}
}

function permissionFinding(entry: Entry, fix: boolean): DoctorFinding | undefined {
  const loose = looseMode(entry.stat)
  if (!loose) return undefined
  const {mode, want} = loose
  let fixed = false
  if (fix && entry.outside) {
    fs.chmodSync(entry.file, want)
    fixed = true
  } else if (fix) {
    fixed = chmodNoFollow(entry.file, want)
  }
  return {check: 'permissions', file: entry.label, problem: `mode ${mode.toString(8)} is looser than ${want.toString(8)}`, fixed}
}

function conflictFinding(root: string, entry: Entry): DoctorFinding | undefined {
  if (!entry.stat.isFile() || !entry.file.endsWith('.yaml')) return undefined
  let text: string | undefined
  try {
    text = readVaultFile(entry.file, entry.label)
  } catch (error) {
    if (error instanceof AivaultError) return undefined // oversized: the records check names it
    throw error
  }
  if (text === undefined || !hasConflictMarkers(text)) return undefined
  return explainConflict(root, entry.label, text)
}

function tempFinding(entry: Entry, fix: boolean): DoctorFinding | undefined {
  if (!entry.stat.isFile() || !entry.file.endsWith(TEMP_SUFFIX)) return undefined
  const old = Date.now() - entry.stat.mtimeMs > TEMP_GRACE_MS
  if (fix && old) fs.rmSync(entry.file, {force: true})
  return {check: 'temp-files', file: entry.label, problem: 'leftover temp file from an interrupted write', fixed: fix && old}
}

/** The vault root (labelled by its path), everything under it, and the key file when it lives outside. */
function vaultEntries(root: string, keyFile: string | undefined): Entry[] {
  const entries: Entry[] = [{file: root, label: root, stat: fs.statSync(root)}]
  walk(root, root, entries)
  const inside = keyFile !== undefined && !path.relative(root, keyFile).startsWith('..')
  const keyStat = keyFile && !inside ? fs.statSync(keyFile, {throwIfNoEntry: false}) : undefined
  if (keyFile && keyStat) entries.push({file: keyFile, label: keyFile, stat: keyStat, outside: true})
  return entries
}

/**
 * The files and folders whose permissions are looser than 0600/0700, as doctor reports them
 * (status shows the same list; doctor --fix tightens them).
 */
export function loosePermissions(root: string, keyFile: string | undefined): string[] {
  return vaultEntries(root, keyFile)
    .filter((entry) => looseMode(entry.stat) !== undefined)
    .map((entry) => entry.label)
}

/**
 * Check every file and folder of the vault (and the key file, outside it, whose link the
 * operator may have set up: it alone is followed).
 */
export function checkVaultFiles(root: string, keyFile: string | undefined, fix: boolean): DoctorFinding[] {
  const entries = vaultEntries(root, keyFile)
  const findings: DoctorFinding[] = []
  for (const entry of entries) {
    const link = linkFinding(entry)
    if (link) {
      findings.push(link)
      continue
    }
    for (const finding of [permissionFinding(entry, fix), tempFinding(entry, fix), conflictFinding(root, entry)]) if (finding) findings.push(finding)
  }
  return findings
}

/**
 * A record folder's listing, or, when the folder itself is refused (a link where it belongs),
 * no records and that one problem: doctor reports it and goes on.
 */
export function listingOrRefusal<T>(list: () => {records: T[]; problems: {file: string; message: string}[]}): {records: T[]; problems: {file: string; message: string}[]} {
  try {
    return list()
  } catch (error) {
    if (!(error instanceof AivaultError && error.code === 'vault_tampered')) throw error
    const [file, ...why] = error.message.split(': ')
    return {records: [], problems: [{file, message: why.join(': ')}]}
  }
}

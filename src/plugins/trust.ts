/**
 * Which plugins the operator trusted with decrypted secrets (SPEC §13): `aivault plugins trust`
 * records a content digest of the plugin's files; a provider hook runs only while the files
 * still match it (`plugin_untrusted` otherwise).
 *
 * The check before each provider hook must be cheap: it walks the plugin's folder with lstat
 * only and compares every file's stamp (inode, size, mtime, ctime) with those recorded at trust
 * time. ctime cannot be set back by the file's owner, so an edit cannot hide behind a restored
 * mtime. Only when a stamp differs are the files read and hashed again; a touch that left the
 * content alone passes, anything else refuses.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

import {AivaultError} from '../errors'
import {pluginDataDir} from './data-dir'
import {fileStamp} from './file-stamp'
import type {InstalledPlugin} from './installed'

interface TrustEntry {
  root: string
  digest: string
  trustedAt: string
  /** Relative path -> stat stamp, when trusted (the cheap check). */
  stamps: Record<string, string>
}

interface TrustFile {
  version: 1
  plugins: Record<string, TrustEntry>
}

/** A plugin's folder is digested whole except these (version control, our caches). */
const SKIPPED = new Set(['.git'])
const MAX_FILES = 20_000

interface FileFacts {
  /** Relative path (with `/`) -> stamp. */
  stamps: Map<string, string>
  files: Array<{relative: string; absolute: string; link: boolean}>
}

/** Every file under `root` (symbolic links are recorded, never followed), with its stamp. */
function walk(root: string): FileFacts {
  const facts: FileFacts = {stamps: new Map(), files: []}
  const visit = (dir: string, prefix: string) => {
    for (const entry of fs.readdirSync(dir, {withFileTypes: true})) {
      if (prefix === '' && SKIPPED.has(entry.name)) continue
      const absolute = path.join(dir, entry.name)
      const relative = prefix + entry.name
      if (entry.isDirectory()) {
        visit(absolute, `${relative}/`)
        continue
      }
      const s = fs.lstatSync(absolute, {bigint: true})
      facts.stamps.set(relative, `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}:${s.mode}`)
      facts.files.push({relative, absolute, link: entry.isSymbolicLink()})
      if (facts.files.length > MAX_FILES) throw new AivaultError('invalid_request', `${root} holds more than ${MAX_FILES} files: not a plugin folder`)
    }
  }
  visit(root, '')
  return facts
}

/** sha256 over every file's path, kind and content hash, in path order. */
function digestOf(facts: FileFacts): string {
  // node:crypto loads here, not with the module: every command imports this file, few hash.
  const crypto = require('node:crypto') as typeof import('node:crypto')
  const hash = crypto.createHash('sha256')
  for (const file of [...facts.files].sort((a, b) => (a.relative < b.relative ? -1 : a.relative > b.relative ? 1 : 0))) {
    const content = file.link ? Buffer.from(fs.readlinkSync(file.absolute)) : fs.readFileSync(file.absolute)
    const mode = file.link ? 'link' : (fs.statSync(file.absolute).mode & 0o111) !== 0 ? 'exec' : 'file'
    hash.update(`${file.relative}\0${mode}\0${crypto.createHash('sha256').update(content).digest('hex')}\n`)
  }
  return hash.digest('hex')
}

function trustFilePath(env: NodeJS.ProcessEnv): string {
  return path.join(pluginDataDir(env), 'trusted-plugins.json')
}

let memo: {file: string; stamp: string; value: TrustFile} | undefined

function readTrust(env: NodeJS.ProcessEnv): TrustFile {
  const file = trustFilePath(env)
  const stamp = fileStamp(file)
  if (stamp === undefined) return {version: 1, plugins: {}}
  if (memo && memo.file === file && memo.stamp === stamp) return memo.value
  let value: TrustFile
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8')) as TrustFile
    if (value.version !== 1 || typeof value.plugins !== 'object' || value.plugins === null) throw new Error('shape')
  } catch {
    throw new AivaultError('plugin_untrusted', `${file} is unreadable: no plugin is trusted`, {hint: 'delete it and run aivault plugins trust <name> again'})
  }
  memo = {file, stamp, value}
  return value
}

function writeTrust(env: NodeJS.ProcessEnv, value: TrustFile): void {
  const file = trustFilePath(env)
  fs.mkdirSync(path.dirname(file), {recursive: true, mode: 0o700})
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n', {mode: 0o600})
  fs.renameSync(tmp, file)
}

export interface TrustRecord {
  name: string
  digest: string
  trustedAt: string
}

/** Record the plugin's current content as trusted. */
export function trustPlugin(plugin: InstalledPlugin, env: NodeJS.ProcessEnv = process.env, now = new Date()): TrustRecord {
  const facts = walk(plugin.root)
  const entry: TrustEntry = {root: plugin.root, digest: digestOf(facts), trustedAt: now.toISOString(), stamps: Object.fromEntries(facts.stamps)}
  const store = readTrust(env)
  writeTrust(env, {version: 1, plugins: {...store.plugins, [plugin.name]: entry}})
  return {name: plugin.name, digest: entry.digest, trustedAt: entry.trustedAt}
}

/** Forget the plugin's trust; false when it was not trusted. */
export function untrustPlugin(name: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const store = readTrust(env)
  if (!(name in store.plugins)) return false
  const plugins = {...store.plugins}
  delete plugins[name]
  writeTrust(env, {version: 1, plugins})
  return true
}

export type TrustState = {trusted: true; digest: string} | {trusted: false; reason: string}

/** Stamps that matched a trusted digest in this process (a touched but unchanged file is hashed once). */
const verifiedStamps = new Map<string, string>()

/** Whether the plugin's files still match what the operator trusted (cheap when nothing changed). */
export function trustState(plugin: InstalledPlugin, env: NodeJS.ProcessEnv = process.env): TrustState {
  const entry = readTrust(env).plugins[plugin.name]
  if (!entry) return {trusted: false, reason: 'not trusted'}
  if (entry.root !== plugin.root) return {trusted: false, reason: `trusted at ${entry.root}, now at ${plugin.root}`}
  let facts: FileFacts
  try {
    facts = walk(plugin.root)
  } catch {
    return {trusted: false, reason: 'its folder cannot be read'}
  }
  const stamps = JSON.stringify([...facts.stamps].sort())
  const recorded = Object.keys(entry.stamps).length === facts.stamps.size && [...facts.stamps].every(([f, s]) => entry.stamps[f] === s)
  if (recorded || verifiedStamps.get(`${plugin.name}\0${entry.digest}`) === stamps) return {trusted: true, digest: entry.digest}
  if (digestOf(facts) !== entry.digest) return {trusted: false, reason: 'its files changed since it was trusted'}
  verifiedStamps.set(`${plugin.name}\0${entry.digest}`, stamps)
  return {trusted: true, digest: entry.digest}
}

/** Throws plugin_untrusted unless the plugin is trusted and unchanged. */
export function assertTrusted(plugin: InstalledPlugin, env: NodeJS.ProcessEnv = process.env): void {
  const state = trustState(plugin, env)
  if (!state.trusted) {
    throw new AivaultError('plugin_untrusted', `plugin ${plugin.name} is not trusted to receive secrets (${state.reason})`, {
      hint: `review it, then run: aivault plugins trust ${plugin.name}`,
    })
  }
}

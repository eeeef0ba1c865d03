/**
 * A member's identity for recipients vaults (SPEC §11, §15 Teams): an X25519 key pair made by
 * libsodium (crypto_box_keypair), kept outside every vault at AIVAULT_IDENTITY, else
 * ~/.aivault/identity.key (0600, folder 0700), and never overwritten.
 *
 * File format (text, one `key: value` per line, `#` comments; docs/decisions/013):
 *   # aivault identity v1 ...
 *   public-key: <standard base64, 32 bytes>
 *   secret-key: <standard base64, 32 bytes>
 * The public key is stored too, so status and `recipients list` can tell whether this identity
 * is a recipient without loading libsodium; loading checks that the two keys belong together.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {AivaultError} from '../../errors'
import {ensureDir, FILE_MODE, fsyncDir} from '../store/atomic-file'
import {writeAll} from '../store/vault-file'
import {loadSodium} from './sodium'

export const IDENTITY_HEADER = '# aivault identity v1: an X25519 key pair. Private: share only the public key ("aivault identity show"), never this file.'

export interface Identity {
  file: string
  publicKey: Uint8Array
  secretKey: Uint8Array
}

export interface IdentityInfo {
  file: string
  /** Standard base64, 44 characters. */
  publicKey: string
  fingerprint: string
}

/** Where this process's identity lives (SPEC §14). */
export function identityPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.AIVAULT_IDENTITY || path.join(os.homedir(), '.aivault', 'identity.key'))
}

const KEY_B64 = /^[A-Za-z0-9+/]{43}=$/

/** Decode a standard-base64 32-byte key, or undefined when it is not one. */
export function decodePublicKey(text: string): Uint8Array | undefined {
  if (!KEY_B64.test(text)) return undefined
  const bytes = Buffer.from(text, 'base64')
  return bytes.length === 32 && bytes.toString('base64') === text ? new Uint8Array(bytes) : undefined
}

/**
 * A short fingerprint of a public key, for people to compare out of band: 64 bits of SHA-256
 * as four hex groups. node:crypto, not libsodium: it protects nothing and must stay cheap.
 */
export function publicKeyFingerprint(publicKey: string | Uint8Array): string {
  const bytes = typeof publicKey === 'string' ? Buffer.from(publicKey, 'base64') : Buffer.from(publicKey)
  const crypto = require('node:crypto') as typeof import('node:crypto') // loaded only when a fingerprint is asked for
  const hex = crypto.createHash('sha256').update('aivault identity v1\0').update(bytes).digest('hex').slice(0, 16)
  return hex.match(/.{4}/g)!.join(':')
}

const malformed = (file: string, why: string): AivaultError =>
  new AivaultError('vault_unavailable', `identity file ${file} is malformed: ${why}`, {
    hint: 'restore it from your backup; a new identity ("aivault identity create" once this file is moved away) must be added to each vault again',
  })

/** Parse the file's text into its two base64 keys; messages name lines, never their content. */
function parseIdentityText(file: string, text: string): {publicKey: string; secretKey: string} {
  const fields = new Map<string, string>()
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const match = /^(public-key|secret-key):\s*(\S+)$/.exec(line)
    if (!match) throw malformed(file, `line ${index + 1} is not "public-key: <base64>" or "secret-key: <base64>"`)
    if (fields.has(match[1])) throw malformed(file, `${match[1]} appears twice`)
    if (!decodePublicKey(match[2])) throw malformed(file, `${match[1]} is not a base64 32-byte key`)
    fields.set(match[1], match[2])
  }
  for (const name of ['public-key', 'secret-key']) if (!fields.has(name)) throw malformed(file, `${name} is missing`)
  return {publicKey: fields.get('public-key')!, secretKey: fields.get('secret-key')!}
}

function readIdentityText(file: string): string | undefined {
  let st: fs.Stats | undefined
  try {
    st = fs.statSync(file, {throwIfNoEntry: false})
  } catch (error) {
    throw new AivaultError('vault_unavailable', `identity file ${file} cannot be read: ${(error as NodeJS.ErrnoException).code}`)
  }
  if (!st) return undefined
  if (!st.isFile()) throw malformed(file, 'it is not a regular file')
  if (st.size > 4096) throw malformed(file, 'it is larger than an identity file can be')
  return fs.readFileSync(file, 'utf8')
}

/** The public side of the identity at `file`, without libsodium; undefined when there is no file. */
export function readIdentityInfo(file: string): IdentityInfo | undefined {
  const text = readIdentityText(file)
  if (text === undefined) return undefined
  const {publicKey} = parseIdentityText(file, text)
  return {file, publicKey, fingerprint: publicKeyFingerprint(publicKey)}
}

/** The key pair at `file`; undefined when there is no file. Checks that the two keys belong together. */
export async function loadIdentity(file: string): Promise<Identity | undefined> {
  const text = readIdentityText(file)
  if (text === undefined) return undefined
  const keys = parseIdentityText(file, text)
  const publicKey = decodePublicKey(keys.publicKey)!
  const secretKey = decodePublicKey(keys.secretKey)!
  const sodium = await loadSodium()
  if (!sodium.memcmp(sodium.crypto_scalarmult_base(secretKey), publicKey)) throw malformed(file, 'its public key does not belong to its secret key')
  return {file, publicKey, secretKey}
}

/**
 * Make a new key pair and write it to `file`, which must not exist (`conflict` otherwise). The
 * file appears complete or not at all: written to a temp file, then hard-linked into place
 * (a link never replaces an existing name, so two racing creators cannot overwrite each other).
 */
export async function createIdentity(file: string): Promise<IdentityInfo> {
  const refuse = () =>
    new AivaultError('conflict', `an identity already exists at ${file}`, {
      hint: 'aivault never overwrites an identity: "aivault identity show" prints its public key; set AIVAULT_IDENTITY to use another file',
    })
  if (fs.lstatSync(file, {throwIfNoEntry: false})) throw refuse()
  const sodium = await loadSodium()
  const pair = sodium.crypto_box_keypair()
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')
  const text = `${IDENTITY_HEADER}\npublic-key: ${b64(pair.publicKey)}\nsecret-key: ${b64(pair.privateKey)}\n`
  sodium.memzero(pair.privateKey)
  ensureDir(path.dirname(file))
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}.tmp`)
  try {
    const fd = fs.openSync(temp, 'wx', FILE_MODE)
    try {
      writeAll(fd, Buffer.from(text))
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.linkSync(temp, file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw refuse()
    throw error
  } finally {
    fs.rmSync(temp, {force: true})
  }
  fsyncDir(path.dirname(file))
  return {file, publicKey: b64(pair.publicKey), fingerprint: publicKeyFingerprint(pair.publicKey)}
}

/** The identity at `file`, verified, or a new one made there when there is none (init of a recipients vault). */
export async function ensureIdentity(file: string): Promise<IdentityInfo & {created: boolean}> {
  const existing = await loadIdentity(file)
  if (existing) {
    existing.secretKey.fill(0)
    const publicKey = Buffer.from(existing.publicKey).toString('base64')
    return {file, publicKey, fingerprint: publicKeyFingerprint(publicKey), created: false}
  }
  return {...(await createIdentity(file)), created: true}
}

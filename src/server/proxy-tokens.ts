import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {AivaultError} from '../errors'
import {writeFileAtomic} from '../vault/store/atomic-file'
import {ParsedFileMemo} from '../vault/store/record-folder'
import {recordsVersion} from '../vault/store/stat-cache'
import {readVaultFile} from '../vault/store/vault-file'
import type {Vault} from '../vault/vault'
import {VersionedMemo} from '../versioned-memo'

/** A proxy token as stored: only the SHA-256 of the token, under run/tokens/ (never in git). */
export interface ProxyToken {
  id: string
  capabilities: string[]
  credential: string | null
  workspaceId: string | null
  groupId: string | null
  consumer: string | null
  createdAt: string
  expiresAt: string
  revoked: boolean
}

const PREFIX = 'avp_'

/** Token records parsed once per change (serve checks one on every request). */
const tokenMemo = new ParsedFileMemo<ProxyToken>()

// crypto.hash (Node >= 20.12) is the one-shot form, about twice as fast as createHash.
const tokenHash = (token: string): string => (crypto.hash ? crypto.hash('sha256', token, 'hex') : crypto.createHash('sha256').update(token).digest('hex'))

function dir(vault: Vault): string {
  return path.join(vault.paths.runDir, 'tokens')
}

export async function mintToken(vault: Vault, input: Omit<ProxyToken, 'id' | 'createdAt' | 'expiresAt' | 'revoked'> & {ttlMs: number}): Promise<{token: string; record: ProxyToken}> {
  const token = PREFIX + crypto.randomBytes(32).toString('base64url')
  const now = Date.now()
  const record: ProxyToken = {
    id: crypto.randomBytes(6).toString('hex'),
    capabilities: [...new Set(input.capabilities)].sort(),
    credential: input.credential,
    workspaceId: input.workspaceId,
    groupId: input.groupId,
    consumer: input.consumer,
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + input.ttlMs).toISOString(),
    revoked: false,
  }
  writeFileAtomic(path.join(dir(vault), `${tokenHash(token)}.json`), JSON.stringify(record) + '\n', {root: vault.paths.root})
  await vault.audit.append('token.mint', {tokenId: record.id, capabilities: record.capabilities, credential: record.credential, expiresAt: record.expiresAt})
  return {token, record}
}

const TOKEN_SHAPE = /^avp_[A-Za-z0-9_-]{20,}$/

/**
 * Serve checks a token on every request. While the watched tokens folder is unchanged
 * (stat-cache.ts), the answer for a token is reused without hashing it again; a revoke
 * rewrites the file, which changes the folder.
 */
const recent = new VersionedMemo<{record: ProxyToken; expiresAtMs: number} | undefined>(recordsVersion)

function lookup(vault: Vault, token: string): {record: ProxyToken; expiresAtMs: number} | undefined {
  return recent.get(token, () => {
    // The shape is checked once per token text; a malformed one is never looked up on disk.
    if (!TOKEN_SHAPE.test(token)) return undefined
    const name = `${tokenHash(token)}.json`
    const record = tokenMemo.read(path.join(dir(vault), name), `run/tokens/${name}`, (text) => JSON.parse(text) as ProxyToken)
    return record && {record, expiresAtMs: Date.parse(record.expiresAt)}
  })
}

/** The token's record if it exists, is not revoked and has not expired; else `token_invalid`. */
export function checkToken(vault: Vault, token: string | undefined): ProxyToken {
  const known = token?.startsWith(PREFIX) ? lookup(vault, token) : undefined
  // (An unparsable expiry is NaN: never valid.)
  if (!known || known.record.revoked || !(known.expiresAtMs > Date.now())) {
    throw new AivaultError('token_invalid', 'missing, unknown, expired or revoked proxy token', {hint: 'mint one with "aivault token mint"'})
  }
  return known.record
}

/** The id of a stored token (also an expired or revoked one), for the audit event of its refusal; never the token. */
export function knownTokenId(vault: Vault, token: string | undefined): string | undefined {
  return token?.startsWith(PREFIX) ? lookup(vault, token)?.record.id : undefined
}

/** The token records on disk with their files; a link or special file there is no token (doctor reports it). */
function storedTokens(vault: Vault): {file: string; record: ProxyToken}[] {
  let names: string[] = []
  try {
    names = fs.readdirSync(dir(vault)).filter((n) => /^[0-9a-f]{64}\.json$/.test(n))
  } catch {
    return []
  }
  const tokens: {file: string; record: ProxyToken}[] = []
  for (const name of names) {
    const file = path.join(dir(vault), name)
    let record: ProxyToken | null
    try {
      record = JSON.parse(readVaultFile(file, `run/tokens/${name}`) ?? 'null') as ProxyToken | null
    } catch (error) {
      if (error instanceof AivaultError) continue
      throw error
    }
    if (record) tokens.push({file, record})
  }
  return tokens
}

export function listTokens(vault: Vault): ProxyToken[] {
  return storedTokens(vault)
    .map((t) => t.record)
    .sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1))
}

/**
 * Revoke by token id or by the token itself (`avp_...`, matched by its hash). An error names
 * the id only when the argument has the id's form, so a mistyped token is never echoed.
 */
export async function revokeToken(vault: Vault, idOrToken: string): Promise<ProxyToken> {
  const byToken = idOrToken.startsWith(PREFIX) ? `${tokenHash(idOrToken)}.json` : undefined
  for (const {file, record} of storedTokens(vault)) {
    if (byToken ? path.basename(file) !== byToken : record.id !== idOrToken) continue
    const revoked = {...record, revoked: true}
    writeFileAtomic(file, JSON.stringify(revoked) + '\n', {root: vault.paths.root})
    await vault.audit.append('token.revoke', {tokenId: record.id})
    return revoked
  }
  const hint = 'pass a token id from "aivault token list", or the token itself'
  if (byToken) throw new AivaultError('not_found', 'no stored token matches the token given', {hint})
  throw new AivaultError('not_found', TOKEN_ID.test(idOrToken) ? `no token ${idOrToken}` : 'no token has that id', {hint})
}

const TOKEN_ID = /^[0-9a-f]{12}$/

import {Transform} from 'node:stream'

import {AivaultError} from '../errors'
import {partialMatcher} from './partial-match'
import {encodeRfc3986} from './path'

export const REDACTED = '[REDACTED]'

/** The spellings of each secret worth scrubbing: as is, URL-encoded, and JSON-escaped. */
export function secretSpellings(secrets: string[]): string[] {
  const out = new Set<string>()
  for (const secret of secrets) {
    if (secret.length < 4) continue // too short to scrub without mangling ordinary text
    out.add(secret)
    out.add(encodeURIComponent(secret))
    // RFC 3986 (as the broker encodes queries) and form encoding (space as +).
    out.add(encodeRfc3986(secret))
    out.add(new URLSearchParams({s: secret}).toString().slice(2))
    out.add(JSON.stringify(secret).slice(1, -1))
  }
  return [...out].sort((a, b) => b.length - a.length)
}

export function scrubText(text: string, spellings: string[]): string {
  let out = text
  for (const s of spellings) if (out.includes(s)) out = out.split(s).join(REDACTED)
  return out
}

/** The byte forms of a list of spellings: their UTF-8 bytes, and those bytes as latin1 text. */
interface Needles {
  bytes: Buffer[]
  latin1: string[]
}

/** A route's spellings are one array for its lifetime: their byte forms are made once. */
const needlesOf = new WeakMap<string[], Needles>()

function needlesFor(spellings: string[]): Needles {
  let needles = needlesOf.get(spellings)
  if (!needles) {
    const bytes = spellings.map((s) => Buffer.from(s))
    needles = {bytes, latin1: bytes.map((n) => n.toString('latin1'))}
    needlesOf.set(spellings, needles)
  }
  return needles
}

/** Replace every spelling in a buffer, byte for byte; the same buffer back when none occurs (the common case). */
export function scrubBytes(data: Buffer, spellings: string[]): Buffer {
  const needles = needlesFor(spellings)
  if (!needles.bytes.some((needle) => data.includes(needle))) return data
  return Buffer.from(scrubText(data.toString('latin1'), needles.latin1), 'latin1')
}

/**
 * A stream transform that replaces secret spellings in a response, even when one is split
 * across chunks: it holds back only a tail that could be the start of one (partial-match.ts)
 * until more data arrives, so every other byte reaches the caller as soon as it arrives.
 * An upstream that echoes the request must not hand the injected key to the caller. It also
 * ends the response with body_too_large past `maxBytes`.
 */
export function responseFilter(spellings: string[], maxBytes: number | null): Transform {
  const partial = partialMatcher(needlesFor(spellings).bytes)
  let pending: Buffer | undefined
  let seen = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length
      if (maxBytes !== null && seen > maxBytes) return callback(new AivaultError('body_too_large', `the response exceeds ${maxBytes} bytes`))
      if (spellings.length === 0) return callback(null, chunk)
      const scrubbed = scrubBytes(pending ? Buffer.concat([pending, chunk]) : chunk, spellings)
      const cut = scrubbed.length - partial.heldBack(scrubbed)
      pending = scrubbed.subarray(cut)
      callback(null, cut > 0 ? scrubbed.subarray(0, cut) : undefined)
    },
    flush(callback) {
      callback(null, pending)
    },
  })
}

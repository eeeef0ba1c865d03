import {Transform} from 'node:stream'

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

/**
 * A stream transform that replaces secret spellings in a response, even when one is split
 * across chunks: it holds back the last (longest secret - 1) bytes until more data arrives.
 * An upstream that echoes the request must not hand the injected key to the caller.
 */
export function secretScrubber(spellings: string[]): Transform {
  const keep = Math.max(0, ...spellings.map((s) => Buffer.byteLength(s))) - 1
  let pending = Buffer.alloc(0)
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (spellings.length === 0) return callback(null, chunk)
      const text = scrubText(Buffer.concat([pending, chunk]).toString('latin1'), spellings.map((s) => Buffer.from(s).toString('latin1')))
      const bytes = Buffer.from(text, 'latin1')
      const cut = Math.max(0, bytes.length - keep)
      pending = bytes.subarray(cut)
      callback(null, bytes.subarray(0, cut))
    },
    flush(callback) {
      callback(null, pending)
    },
  })
}

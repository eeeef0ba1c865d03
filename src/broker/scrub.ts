import {Transform} from 'node:stream'

import {AivaultError} from '../errors'
import {NeedleIndex} from './needle-index'
import {secretSpellings} from './spellings'

export {secretSpellings}

export const REDACTED = '[REDACTED]'

export function scrubText(text: string, spellings: string[]): string {
  let out = text
  for (const s of spellings) if (out.includes(s)) out = out.split(s).join(REDACTED)
  return out
}

/** The byte forms of a list of spellings: their UTF-8 bytes, and those bytes as latin1 text. */
interface Needles {
  bytes: Buffer[]
  latin1: string[]
  /** Built once the list has been used a few times (a per-request list is not worth it). */
  index?: NeedleIndex
  uses: number
}

/** A route's spellings are one array for its lifetime: their byte forms are made once. */
const needlesOf = new WeakMap<string[], Needles>()
const INDEX_AFTER_USES = 3

function needlesFor(spellings: string[]): Needles {
  let needles = needlesOf.get(spellings)
  if (!needles) {
    const bytes = spellings.map((s) => Buffer.from(s))
    needles = {bytes, latin1: bytes.map((n) => n.toString('latin1')), uses: 0}
    needlesOf.set(spellings, needles)
  }
  return needles
}

function occursIn(data: Buffer, needles: Needles): boolean {
  if (needles.index) return needles.index.occursIn(data)
  if (++needles.uses >= INDEX_AFTER_USES) needles.index = new NeedleIndex(needles.bytes)
  return needles.bytes.some((needle) => data.includes(needle))
}

/** Replace every spelling in a buffer, byte for byte; the same buffer back when none occurs (the common case). */
export function scrubBytes(data: Buffer, spellings: string[]): Buffer {
  const needles = needlesFor(spellings)
  if (!occursIn(data, needles)) return data
  return Buffer.from(scrubText(data.toString('latin1'), needles.latin1), 'latin1')
}

/**
 * Response header values with every spelling replaced (a `Location` carrying query or path
 * auth, a header echoing the key). Node and undici hand header values over as latin1 text
 * (one character per byte), so the byte forms of the spellings are what to look for. Values
 * are short, most shorter than any spelling, so searching each is cheap. The same array back
 * when nothing matched.
 */
export function scrubHeaderValues(headers: Array<[string, string]>, spellings: string[]): Array<[string, string]> {
  if (spellings.length === 0) return headers
  const {latin1} = needlesFor(spellings)
  let out: Array<[string, string]> | undefined
  for (let i = 0; i < headers.length; i++) {
    const value = headers[i][1]
    const scrubbed = scrubText(value, latin1)
    if (scrubbed === value) continue
    out ??= [...headers]
    out[i] = [headers[i][0], scrubbed]
  }
  return out ?? headers
}

/**
 * The error to show for `error` once the secrets are known: the same one when its message and
 * hint carry none of them, else a copy with them redacted (an upstream-derived message, a
 * refused redirect's path, a token endpoint's answer).
 */
export function scrubbedError(error: unknown, spellings: string[]): unknown {
  if (spellings.length === 0 || !(error instanceof Error)) return error
  const message = scrubText(error.message, spellings)
  if (error instanceof AivaultError) {
    const hint = error.hint === undefined ? undefined : scrubText(error.hint, spellings)
    if (message === error.message && hint === error.hint) return error
    return new AivaultError(error.code, message, {hint, exitCode: error.exitCode})
  }
  if (message === error.message) return error
  return new AivaultError('upstream_unreachable', message)
}

/**
 * How many bytes at the end of `data` could be the start of a spelling: a stream waits for
 * the next chunk before passing those on, and nothing else (an SSE event goes out at once).
 */
function partialMatchLength(data: Buffer, needles: Buffer[]): number {
  let longest = 0
  for (const needle of needles) {
    for (let at = Math.max(0, data.length - needle.length + 1); at < data.length - longest; at++) {
      at = data.indexOf(needle[0], at)
      if (at === -1 || data.length - at <= longest) break
      if (needle.compare(data, at, data.length, 0, data.length - at) === 0) {
        longest = data.length - at
        break
      }
    }
  }
  return longest
}

/**
 * A stream transform that replaces secret spellings in a response, even when one is split
 * across chunks: it holds back a chunk's tail while it could be the start of one. An
 * upstream that echoes the request must not hand the injected key to the caller. It also
 * ends the response with body_too_large past `maxBytes`.
 */
export function responseFilter(spellings: string[], maxBytes: number | null): Transform {
  const needles = needlesFor(spellings).bytes
  let pending: Buffer | undefined
  let seen = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length
      if (maxBytes !== null && seen > maxBytes) return callback(new AivaultError('body_too_large', `the response exceeds ${maxBytes} bytes`))
      if (spellings.length === 0) return callback(null, chunk)
      const scrubbed = scrubBytes(pending ? Buffer.concat([pending, chunk]) : chunk, spellings)
      const cut = scrubbed.length - partialMatchLength(scrubbed, needles)
      pending = cut < scrubbed.length ? scrubbed.subarray(cut) : undefined
      callback(null, cut > 0 ? scrubbed.subarray(0, cut) : undefined)
    },
    flush(callback) {
      callback(null, pending)
    },
  })
}

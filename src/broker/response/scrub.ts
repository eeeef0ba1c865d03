import {Transform} from 'node:stream'

import {AivaultError} from '../../errors'
import {NeedleIndex} from './needle-index'
import {partialMatcher} from './partial-match'
import {secretSpellings} from './spellings'

export {secretSpellings}

export const REDACTED = '[REDACTED]'

export function scrubText(text: string, spellings: string[]): string {
  let out = text
  for (const s of spellings) if (out.includes(s)) out = out.split(s).join(REDACTED)
  return out
}

/** The byte forms of a list of spellings: their UTF-8 bytes, and those bytes as latin1 text (longest first). */
interface Needles {
  bytes: Buffer[]
  latin1: string[]
  occursIn(data: Buffer): boolean
}

/** A route's spellings are one array for its lifetime: their byte forms are made once. */
const needlesOf = new WeakMap<string[], Needles>()
/** Lists made by extendSpellings: the list they extend, and what they add. */
const extensions = new WeakMap<string[], {base: string[]; added: string[]}>()
const INDEX_AFTER_USES = 3

class ListNeedles implements Needles {
  readonly bytes: Buffer[]
  readonly latin1: string[]
  /** Built once the list has been used a few times (a list made for one request is not worth it). */
  private index?: NeedleIndex
  private uses = 0

  constructor(spellings: string[]) {
    this.bytes = spellings.map((s) => Buffer.from(s))
    this.latin1 = this.bytes.map((n) => n.toString('latin1'))
  }

  occursIn(data: Buffer): boolean {
    if (this.index) return this.index.occursIn(data)
    if (++this.uses >= INDEX_AFTER_USES) this.index = new NeedleIndex(this.bytes)
    return this.bytes.some((needle) => data.includes(needle))
  }
}

/** A list's needles and a few more: the list's own search serves, the added ones are searched one by one. */
class ExtendedNeedles implements Needles {
  readonly bytes: Buffer[]
  readonly latin1: string[]
  private readonly added: Buffer[]

  constructor(
    private readonly base: Needles,
    added: string[],
  ) {
    this.added = added.map((s) => Buffer.from(s))
    this.bytes = [...base.bytes, ...this.added]
    this.latin1 = mergeLongestFirst(base.latin1, this.added.map((n) => n.toString('latin1')))
  }

  occursIn(data: Buffer): boolean {
    return this.base.occursIn(data) || this.added.some((needle) => data.includes(needle))
  }
}

function mergeLongestFirst(a: string[], b: string[]): string[] {
  const out: string[] = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) out.push(j >= b.length || (i < a.length && a[i].length >= b[j].length) ? a[i++] : b[j++])
  return out
}

function needlesFor(spellings: string[]): Needles {
  let needles = needlesOf.get(spellings)
  if (!needles) {
    const extension = extensions.get(spellings)
    needles = extension ? new ExtendedNeedles(needlesFor(extension.base), extension.added) : new ListNeedles(spellings)
    needlesOf.set(spellings, needles)
  }
  return needles
}

/**
 * `base` and the spellings of `values`, as one list. For values derived per request (a
 * signature): scrubbing reuses what it built for `base` and searches the added ones alone.
 */
export function extendSpellings(base: string[], values: string[]): string[] {
  const added = secretSpellings(values).filter((s) => !base.includes(s))
  if (added.length === 0) return base
  const all = mergeLongestFirst(base, added)
  extensions.set(all, {base, added})
  return all
}

/** Replace every spelling in a buffer, byte for byte; the same buffer back when none occurs (the common case). */
export function scrubBytes(data: Buffer, spellings: string[]): Buffer {
  const needles = needlesFor(spellings)
  if (!needles.occursIn(data)) return data
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
      pending = cut < scrubbed.length ? scrubbed.subarray(cut) : undefined
      callback(null, cut > 0 ? scrubbed.subarray(0, cut) : undefined)
    },
    flush(callback) {
      callback(null, pending)
    },
  })
}

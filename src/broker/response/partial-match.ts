/**
 * How many trailing bytes of a streamed response might be the start of a secret spelling. The
 * streaming scrubber (scrub.ts responseFilter) holds back only those bytes until more data
 * arrives, so a chunk that cannot end in part of a secret (an SSE event ending in a blank line)
 * reaches the caller at once instead of waiting for the next one.
 */
export class PartialMatcher {
  /** Needles by their first byte: most positions are rejected by one array read. */
  private readonly byFirstByte: Array<Buffer[] | undefined> = new Array(256)
  private readonly longest: number

  constructor(needles: Buffer[]) {
    let longest = 0
    for (const needle of needles) {
      if (needle.length === 0) continue
      longest = Math.max(longest, needle.length)
      ;(this.byFirstByte[needle[0]] ??= []).push(needle)
    }
    this.longest = longest
  }

  /** The length of the longest suffix of `data` that is a proper prefix of a needle (0 when none). */
  heldBack(data: Buffer): number {
    for (let at = Math.max(0, data.length - this.longest + 1); at < data.length; at++) {
      const candidates = this.byFirstByte[data[at]]
      if (!candidates) continue
      const rest = data.length - at
      for (const needle of candidates) {
        if (needle.length > rest && needle.compare(data, at, data.length, 0, rest) === 0) return rest
      }
    }
    return 0
  }
}

const matchers = new WeakMap<Buffer[], PartialMatcher>()

/** The matcher of a list of needles, made once per list (a route keeps its list for its lifetime). */
export function partialMatcher(needles: Buffer[]): PartialMatcher {
  let matcher = matchers.get(needles)
  if (!matcher) {
    matcher = new PartialMatcher(needles)
    matchers.set(needles, matcher)
  }
  return matcher
}

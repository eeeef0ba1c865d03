/**
 * Whether any of many byte strings occurs in a buffer, at a cost that does not grow with their
 * number: every secret has several spellings (scrub.ts), and scanning the response once per
 * spelling made the common no-match case several times slower.
 *
 * How: with every needle at least `L` bytes long, any occurrence spans one of the positions
 * 0, s, 2s, ... (stride s = L - 3), and the 4 bytes there are the needle's bytes at an offset
 * below s. So only those positions are read; a bitset of the indexed 4-byte grams rejects
 * almost all of them, and the rare candidate is checked exactly.
 */

const GRAM = 4
/** Needles shorter than this are searched for one by one (a short needle would force a short stride). */
export const INDEXED_MIN_LENGTH = 12
/** Longer strides save little and make the index larger. */
const MAX_STRIDE = 64

function gramAt(data: Uint8Array, at: number): number {
  return data[at] | (data[at + 1] << 8) | (data[at + 2] << 16) | (data[at + 3] << 24)
}

export class NeedleIndex {
  private readonly short: Buffer[]
  private readonly long: Buffer[]
  private readonly stride: number
  private readonly shift: number
  private readonly bits: Uint32Array
  /** Gram -> [needle, offset, needle, offset, ...] */
  private readonly candidates = new Map<number, number[]>()

  constructor(needles: Buffer[]) {
    this.short = needles.filter((n) => n.length < INDEXED_MIN_LENGTH)
    this.long = needles.filter((n) => n.length >= INDEXED_MIN_LENGTH)
    let shortest = Infinity
    for (const needle of this.long) shortest = Math.min(shortest, needle.length)
    this.stride = Math.min(MAX_STRIDE, shortest - GRAM + 1)
    // About 32 bits per gram: a position passes the bitset by chance ~3% of the time at most.
    let size = 1 << 12
    while (size < this.long.length * this.stride * 32 && size < 1 << 20) size <<= 1
    this.shift = 32 - Math.log2(size)
    this.bits = new Uint32Array(size >>> 5)
    for (const [index, needle] of this.long.entries()) {
      for (let offset = 0; offset < this.stride; offset++) {
        const gram = gramAt(needle, offset)
        const slot = Math.imul(gram, 0x9e3779b1) >>> this.shift
        this.bits[slot >>> 5] |= 1 << (slot & 31)
        const list = this.candidates.get(gram)
        if (list) list.push(index, offset)
        else this.candidates.set(gram, [index, offset])
      }
    }
  }

  occursIn(data: Buffer): boolean {
    for (const needle of this.short) if (data.includes(needle)) return true
    if (this.long.length === 0) return false
    const {stride, shift, bits} = this
    const last = data.length - GRAM
    for (let at = 0; at <= last; at += stride) {
      const gram = gramAt(data, at)
      const slot = Math.imul(gram, 0x9e3779b1) >>> shift
      if ((bits[slot >>> 5] & (1 << (slot & 31))) !== 0 && this.confirmed(data, at, gram)) return true
    }
    return false
  }

  private confirmed(data: Buffer, at: number, gram: number): boolean {
    const list = this.candidates.get(gram)
    if (!list) return false
    for (let i = 0; i < list.length; i += 2) {
      const needle = this.long[list[i]]
      const start = at - list[i + 1]
      if (start >= 0 && start + needle.length <= data.length && needle.compare(data, start, start + needle.length) === 0) return true
    }
    return false
  }
}

/**
 * The multi-needle search behind scrubBytes (needle-index.ts) must answer exactly as one
 * `includes` per needle would, wherever a needle falls: any miss would let a secret through.
 */
import assert from 'node:assert/strict'
import {randomBytes, randomInt} from 'node:crypto'

import {INDEXED_MIN_LENGTH, NeedleIndex} from '../../src/broker/response/needle-index'
import {extendSpellings, scrubBytes, scrubHeaderValues, secretSpellings} from '../../src/broker/response/scrub'

const naive = (data: Buffer, needles: Buffer[]) => needles.some((n) => data.includes(n))

/** Random text over a small alphabet, so partial matches of the needles are frequent. */
function noise(length: number, alphabet = 'abcdefgh0123456789-_'): Buffer {
  const out = Buffer.alloc(length)
  for (let i = 0; i < length; i++) out[i] = alphabet.charCodeAt(randomInt(alphabet.length))
  return out
}

describe('broker/needle-index: NeedleIndex', () => {
  it('finds every needle at every offset of buffers of many sizes', () => {
    const needles = [noise(INDEXED_MIN_LENGTH), noise(17), noise(40), noise(90), noise(5)]
    const index = new NeedleIndex(needles)
    for (const needle of needles) {
      for (const size of [0, 1, 3, 50, 200]) {
        for (let at = 0; at <= size; at += Math.max(1, Math.floor(size / 25))) {
          const data = Buffer.concat([noise(at), needle, noise(size - at)])
          assert.equal(index.occursIn(data), true, `needle of ${needle.length} at ${at} of ${data.length}`)
        }
      }
    }
  })

  it('agrees with one search per needle on random data, including near misses', () => {
    for (let round = 0; round < 300; round++) {
      const needles = Array.from({length: 1 + randomInt(8)}, () => noise(INDEXED_MIN_LENGTH + randomInt(30), 'ab01'))
      const index = new NeedleIndex(needles)
      // A needle with one byte changed, or cut short, next to noise of the same alphabet.
      const near = Buffer.from(needles[0])
      near[randomInt(near.length)] ^= 1
      for (const data of [noise(randomInt(400), 'ab01'), Buffer.concat([noise(randomInt(20), 'ab01'), near, noise(randomInt(20), 'ab01')]), needles[0].subarray(1)]) {
        assert.equal(index.occursIn(data), naive(data, needles), `round ${round}`)
      }
    }
  })

  it('works with short needles only, and with none', () => {
    assert.equal(new NeedleIndex([Buffer.from('abcd')]).occursIn(Buffer.from('xxabcdxx')), true)
    assert.equal(new NeedleIndex([Buffer.from('abcd')]).occursIn(Buffer.from('xxabcxx')), false)
    assert.equal(new NeedleIndex([]).occursIn(randomBytes(100)), false)
  })
})

describe('broker/scrub: scrubBytes once the needle index is in use', () => {
  it('scrubs like the first calls did (the index is built after a few uses of one spellings list)', () => {
    const secret = 'sk-index-e2e-SECRET-0123456789'
    const spellings = secretSpellings([secret])
    for (let call = 0; call < 10; call++) {
      const clean = Buffer.from(`{"n":${call},"data":"nothing here"}`)
      assert.equal(scrubBytes(clean, spellings), clean, `call ${call}: no match gives the same buffer back`)
      for (const echo of [secret, Buffer.from(secret).toString('hex'), Buffer.from(`x${secret}`).toString('base64')]) {
        const out = scrubBytes(Buffer.from(`{"n":${call},"echo":"${echo}"}`), spellings).toString()
        assert.ok(out.includes('[REDACTED]') && !out.includes(secret), `call ${call}: ${out}`)
      }
    }
  })
})

describe('broker/scrub: extendSpellings (a value derived per request, e.g. a signature)', () => {
  it('scrubs the base list\'s spellings and the added ones, in bytes, text and header values, longest first', () => {
    const base = secretSpellings(['sk-extend-SECRET-0123456789'])
    const signature = 'f'.repeat(16) + '0123456789abcdef'.repeat(3)
    const extended = extendSpellings(base, [signature])
    for (let i = 1; i < extended.length; i++) assert.ok(extended[i - 1].length >= extended[i].length, 'longest first')
    for (let call = 0; call < 5; call++) {
      for (const echo of ['sk-extend-SECRET-0123456789', signature, Buffer.from(signature).toString('base64')]) {
        const out = scrubBytes(Buffer.from(`{"echo":"${echo}"}`), extended).toString()
        assert.ok(out.startsWith('{"echo":"[REDACTED]') && !out.includes(echo), `call ${call}: ${out}`)
        const header = scrubHeaderValues([['x-echo', echo]], extended)[0][1]
        assert.ok(header.startsWith('[REDACTED]') && !header.includes(echo), `call ${call}: ${header}`)
      }
      const clean = Buffer.from('{"nothing":"here"}')
      assert.equal(scrubBytes(clean, extended), clean)
    }
    assert.equal(extendSpellings(base, []), base)
    assert.equal(extendSpellings(base, ['sk-extend-SECRET-0123456789']), base, 'values already covered add nothing')
  })
})

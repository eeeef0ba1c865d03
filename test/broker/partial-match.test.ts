/**
 * The streaming scrubber holds back only a tail that could start a secret (issue 12 item 28):
 * an SSE event reaches the caller as soon as it arrives, and a secret split anywhere across
 * chunks is still scrubbed.
 */
import assert from 'node:assert/strict'
import type {Transform} from 'node:stream'

import {PartialMatcher} from '../../src/broker/response/partial-match'
import {REDACTED, responseFilter, secretSpellings} from '../../src/broker/response/scrub'

const SECRET = 'sk-stream-SECRET-0123456789abcdefghijklmnop'
const SPELLINGS = secretSpellings([SECRET])

/** Write one chunk and collect what the filter lets out before the stream ends. */
async function writeAndRead(filter: Transform, seen: Buffer[], chunk: Buffer): Promise<string> {
  const before = seen.length
  filter.write(chunk)
  await new Promise((resolve) => setImmediate(resolve))
  return Buffer.concat(seen.slice(before)).toString('utf8')
}

describe('broker/partial-match: PartialMatcher', () => {
  const matcher = new PartialMatcher([Buffer.from('abcdef'), Buffer.from('xyz')])

  it('measures the longest tail that starts a needle', () => {
    assert.equal(matcher.heldBack(Buffer.from('hello')), 0)
    assert.equal(matcher.heldBack(Buffer.from('hello a')), 1)
    assert.equal(matcher.heldBack(Buffer.from('hello abcde')), 5)
    assert.equal(matcher.heldBack(Buffer.from('hello abcq')), 0)
    assert.equal(matcher.heldBack(Buffer.from('..xy')), 2)
    assert.equal(matcher.heldBack(Buffer.from('abxy')), 2)
    assert.equal(matcher.heldBack(Buffer.from('')), 0)
  })

  it('never counts a whole needle (the scrubber has already replaced it)', () => {
    assert.equal(matcher.heldBack(Buffer.from('..xyz')), 0)
    assert.equal(matcher.heldBack(Buffer.from('abcdef')), 0)
  })

  it('with no needles holds nothing back', () => {
    assert.equal(new PartialMatcher([]).heldBack(Buffer.from('abc')), 0)
  })
})

describe('broker/scrub: responseFilter streams every complete event at once', () => {
  it('lets out each SSE event as soon as it is written, before the next one', async () => {
    const filter = responseFilter(SPELLINGS, null)
    const seen: Buffer[] = []
    filter.on('data', (chunk: Buffer) => seen.push(chunk))
    for (const n of [1, 2, 3]) assert.equal(await writeAndRead(filter, seen, Buffer.from(`data: {"n":${n}}\n\n`)), `data: {"n":${n}}\n\n`)
    filter.end()
  })

  it('holds back only a tail that begins a secret, and scrubs it once complete', async () => {
    const filter = responseFilter(SPELLINGS, null)
    const seen: Buffer[] = []
    filter.on('data', (chunk: Buffer) => seen.push(chunk))
    assert.equal(await writeAndRead(filter, seen, Buffer.from(`data: ${SECRET.slice(0, 10)}`)), 'data: ')
    assert.equal(await writeAndRead(filter, seen, Buffer.from(`${SECRET.slice(10)}\n\n`)), `${REDACTED}\n\n`)
    filter.end()
  })

  it('a tail that stops matching is let out with the next chunk', async () => {
    const filter = responseFilter(SPELLINGS, null)
    const seen: Buffer[] = []
    filter.on('data', (chunk: Buffer) => seen.push(chunk))
    assert.equal(await writeAndRead(filter, seen, Buffer.from('data: sk-str')), 'data: ')
    assert.equal(await writeAndRead(filter, seen, Buffer.from('ange\n\n')), 'sk-strange\n\n')
    filter.end()
  })
})

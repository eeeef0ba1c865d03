/**
 * aivaultd's frame splitter (SPEC §15 daemon protocol; issue 12 item 13): frames are cut on the
 * newline byte and decoded whole, so multi-byte characters split across chunks arrive intact,
 * and a long frame's chunks are each scanned once.
 */
import assert from 'node:assert/strict'

import {lineSplitter} from '../../src/daemon/protocol'

/** Feed `chunks` to a fresh splitter; the lines it produced. */
function split(chunks: Buffer[], maxLine?: number): string[] {
  const lines: string[] = []
  const feed = lineSplitter((line) => lines.push(line), maxLine)
  for (const chunk of chunks) feed(chunk)
  return lines
}

/** `bytes` cut into pieces at the given offsets. */
function cutAt(bytes: Buffer, offsets: number[]): Buffer[] {
  const out: Buffer[] = []
  let from = 0
  for (const at of [...offsets, bytes.length]) {
    out.push(bytes.subarray(from, at))
    from = at
  }
  return out
}

describe('daemon/protocol: lineSplitter', () => {
  // One, two, three and four byte UTF-8 characters.
  const TEXT = 'aé€😀 ünïcödé ✓ 日本語 𝄞'
  const FRAMES = [JSON.stringify({id: 1, body: TEXT}), JSON.stringify({id: 2, body: TEXT.repeat(3)})]
  const STREAM = Buffer.from(FRAMES.map((f) => f + '\n').join(''))

  it('keeps every multi-byte character intact wherever a two-chunk cut falls', () => {
    for (let i = 0; i <= STREAM.length; i++) assert.deepEqual(split(cutAt(STREAM, [i])), FRAMES, `cut at ${i}`)
  })

  it('keeps every character intact wherever a three-chunk cut falls', () => {
    for (let i = 0; i <= STREAM.length; i += 1) {
      for (let j = i; j <= STREAM.length; j += 3) assert.deepEqual(split(cutAt(STREAM, [i, j])), FRAMES, `cut at ${i}/${j}`)
    }
  })

  it('keeps them intact when the stream arrives one byte at a time', () => {
    assert.deepEqual(split([...STREAM].map((b) => Buffer.from([b]))), FRAMES)
  })

  it('delivers 45,000 × "aé" byte-exact across many chunks', () => {
    const body = 'aé'.repeat(45_000)
    const frame = Buffer.from(JSON.stringify({body}) + '\n')
    const chunks: Buffer[] = []
    for (let at = 0; at < frame.length; at += 4093) chunks.push(frame.subarray(at, at + 4093))
    const [line] = split(chunks)
    assert.equal(Buffer.byteLength(JSON.parse(line).body), 135_000)
    assert.equal(JSON.parse(line).body, body)
  })

  it('skips blank lines and keeps a frame that has no newline yet', () => {
    const lines: string[] = []
    const feed = lineSplitter((line) => lines.push(line))
    feed(Buffer.from('\n  \n{"a":1}\n{"b"'))
    assert.deepEqual(lines, ['{"a":1}'])
    feed(Buffer.from(':2}\n'))
    assert.deepEqual(lines, ['{"a":1}', '{"b":2}'])
  })

  it('refuses a frame longer than the limit, whole or in pieces', () => {
    assert.throws(() => split([Buffer.from('x'.repeat(11) + '\n')], 10), /frame too large/)
    assert.throws(() => split([Buffer.from('x'.repeat(6)), Buffer.from('x'.repeat(6))], 10), /frame too large/)
    assert.deepEqual(split([Buffer.from('x'.repeat(5)), Buffer.from('x'.repeat(5) + '\n')], 10), ['x'.repeat(10)])
  })

  it('joins a 32 MiB frame that arrives in 64 KiB chunks', () => {
    const chunk = Buffer.alloc(64 << 10, 'a')
    const lines: string[] = []
    const feed = lineSplitter((line) => lines.push(line))
    for (let i = 0; i < 512; i++) feed(chunk)
    feed(Buffer.from('\n'))
    assert.equal(lines.length, 1)
    assert.equal(lines[0].length, 32 << 20)
  })
})

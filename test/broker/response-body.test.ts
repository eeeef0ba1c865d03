/**
 * The broker undoes every coding of a response body before scrubbing it (issue 12 item 4): a
 * gzip Transfer-Encoding as well as a Content-Encoding, applied in order.
 */
import assert from 'node:assert/strict'
import {Readable} from 'node:stream'
import {brotliCompressSync, deflateSync, gzipSync} from 'node:zlib'

import {codingsOf, decoded} from '../../src/broker/response/response-body'
import type {UpstreamResponse} from '../../src/broker/upstream/upstream'

const answer = (headers: Array<[string, string]>, body: Buffer): UpstreamResponse => ({statusCode: 200, headers, body: Readable.from([body])})

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

describe('broker/response-body: codings', () => {
  it('lists Content-Encoding codings first, then Transfer-Encoding ones, without chunked or identity', () => {
    assert.deepEqual(codingsOf(answer([['content-type', 'text/plain']], Buffer.alloc(0))), [])
    assert.deepEqual(codingsOf(answer([['transfer-encoding', 'chunked'], ['content-encoding', 'identity']], Buffer.alloc(0))), [])
    assert.deepEqual(codingsOf(answer([['transfer-encoding', 'GZIP, chunked'], ['content-encoding', 'br']], Buffer.alloc(0))), ['br', 'gzip'])
    assert.deepEqual(codingsOf(answer([['content-encoding', 'deflate, gzip']], Buffer.alloc(0))), ['deflate', 'gzip'])
  })

  it('undoes them last applied first', async () => {
    const plain = Buffer.from('{"echo":"Bearer sk-coded-SECRET"}')
    const cases: Array<[Array<[string, string]>, Buffer]> = [
      [[['transfer-encoding', 'gzip, chunked']], gzipSync(plain)],
      [[['content-encoding', 'br'], ['transfer-encoding', 'gzip, chunked']], gzipSync(brotliCompressSync(plain))],
      [[['content-encoding', 'deflate, gzip']], gzipSync(deflateSync(plain))],
    ]
    for (const [headers, body] of cases) {
      const response = answer(headers, body)
      assert.equal(await text(decoded(response, codingsOf(response))), plain.toString(), JSON.stringify(headers))
    }
  })

  it('refuses a coding it cannot undo, whichever header names it', () => {
    for (const name of ['content-encoding', 'transfer-encoding']) {
      const response = answer([[name, 'zstd']], Buffer.from('x'))
      assert.throws(() => decoded(response, codingsOf(response)), (error: Error & {code?: string}) => error.code === 'policy_violation' && /zstd/.test(error.message))
    }
  })
})

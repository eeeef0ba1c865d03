/**
 * A response body as the broker inspects it: with every content and transfer coding undone
 * (SPEC §7 step 12), so the secret scrubber and response policies see plain bytes.
 */
import type {Readable, Transform} from 'node:stream'
import * as zlib from 'node:zlib'

import {AivaultError} from '../../errors'
import type {UpstreamResponse} from '../upstream/upstream'

const NO_CODINGS: string[] = []

/**
 * The codings applied to a body, first applied first: its Content-Encoding, then any
 * Transfer-Encoding but chunked (HTTP clients undo the chunked framing, never a gzip transfer
 * coding). Empty for a plain body, the usual case.
 */
export function codingsOf(response: UpstreamResponse): string[] {
  let content = NO_CODINGS
  let transfer = NO_CODINGS
  for (const [name, value] of response.headers) {
    if (name !== 'content-encoding' && name !== 'transfer-encoding') continue
    for (const part of value.split(',')) {
      const coding = part.trim().toLowerCase()
      if (coding === '' || coding === 'identity' || coding === 'chunked') continue
      if (name === 'content-encoding') content = [...content, coding]
      else transfer = [...transfer, coding]
    }
  }
  return transfer === NO_CODINGS ? content : [...content, ...transfer]
}

const DECODERS: Record<string, () => Transform> = {
  gzip: zlib.createGunzip,
  'x-gzip': zlib.createGunzip,
  deflate: zlib.createInflate,
  br: zlib.createBrotliDecompress,
}

/** The body with its codings undone, last applied first, so the scrubber and response policies see plain bytes. */
export function decoded(response: UpstreamResponse, codings: string[]): Readable {
  const unknown = codings.find((coding) => !Object.hasOwn(DECODERS, coding))
  if (unknown !== undefined) {
    response.body.resume()
    throw new AivaultError('policy_violation', `the upstream answered with the ${unknown} coding, which the broker cannot inspect`)
  }
  let body = response.body
  for (const coding of [...codings].reverse()) body = pipeInto(body, DECODERS[coding]())
  return body
}

/** source.pipe(dest), and an error of the source ends dest with it (stream.pipeline costs far more per call). */
export function pipeInto<T extends Transform>(source: Readable, dest: T): T {
  source.once('error', (error) => dest.destroy(error))
  return source.pipe(dest)
}

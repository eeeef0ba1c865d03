/**
 * The `hmac` auth strategy (SPEC §8): a keyed HMAC over the request; the key is never sent.
 *
 * `input: 'canonical'` (the default) signs exactly
 *
 *   METHOD \n path \n query \n timestamp \n hex(sha256(body))
 *
 * where `path` is the path as sent upstream, `query` is the request's query pairs sorted by key
 * then value (Unicode code point order of the decoded text), each RFC 3986 percent-encoded and
 * joined `k=v&k2=v2` (`=` always present, empty when there is no query), and `timestamp` is unix
 * seconds, also sent in `x-aivault-timestamp`. `input: 'body'` signs the raw body bytes
 * (webhook style) and sends no timestamp.
 *
 * The signature (lower-case hex) replaces `{{signature}}` in `value_template`, sent in
 * `header_name`.
 */
import {createHash, createHmac} from 'node:crypto'

import {AivaultError} from '../../errors'
import type {AuthInjection, AuthMaterial, OutgoingRequest} from './types'
import {encodeRfc3986} from '../request/path'

export interface HmacConfig {
  algorithm: 'sha256' | 'sha512'
  header_name: string
  value_template: string
  input?: 'canonical' | 'body'
}

export const HMAC_TIMESTAMP_HEADER = 'x-aivault-timestamp'

const SIGNATURE_PLACEHOLDER = '{{signature}}'
const HEADER_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

export function signHmac(config: HmacConfig, material: AuthMaterial, request: OutgoingRequest, now: Date): AuthInjection {
  const algorithm = config?.algorithm
  if (algorithm !== 'sha256' && algorithm !== 'sha512') throw new AivaultError('auth_failed', 'the hmac algorithm must be sha256 or sha512')
  const headerName = typeof config.header_name === 'string' ? config.header_name.trim().toLowerCase() : ''
  if (!HEADER_TOKEN.test(headerName)) throw new AivaultError('auth_failed', 'the hmac header_name must be a valid header name')
  const template = config.value_template
  if (typeof template !== 'string' || !template.includes(SIGNATURE_PLACEHOLDER)) {
    throw new AivaultError('auth_failed', 'the hmac value_template must contain {{signature}}')
  }
  const input = config.input ?? 'canonical'
  if (input !== 'canonical' && input !== 'body') throw new AivaultError('auth_failed', 'the hmac input must be canonical or body')

  const key = material?.values?.secret
  if (typeof key !== 'string' || key === '') throw new AivaultError('auth_failed', 'the hmac credential has no secret key')

  const headers: Array<[string, string]> = []
  let signature: string
  if (input === 'body') {
    signature = createHmac(algorithm, Buffer.from(key, 'utf8')).update(request.body).digest('hex')
  } else {
    const millis = now.getTime()
    if (Number.isNaN(millis)) throw new AivaultError('auth_failed', 'cannot sign an hmac request without a valid clock')
    const timestamp = String(Math.floor(millis / 1000))
    signature = createHmac(algorithm, Buffer.from(key, 'utf8')).update(hmacCanonicalString(request, timestamp), 'utf8').digest('hex')
    headers.push([HMAC_TIMESTAMP_HEADER, timestamp])
  }
  headers.unshift([headerName, template.split(SIGNATURE_PLACEHOLDER).join(signature)])
  return {headers, query: [], redact: [key]}
}

/** The exact text signed in canonical mode (exported for tests and for verifiers' docs). */
export function hmacCanonicalString(request: OutgoingRequest, timestamp: string): string {
  const bodyHash = createHash('sha256').update(request.body).digest('hex')
  return [request.method.toUpperCase(), request.path, canonicalQuery(request.query), timestamp, bodyHash].join('\n')
}

function canonicalQuery(query: Array<[string, string]>): string {
  return [...query]
    .sort((a, b) => compareCodePoints(a[0], b[0]) || compareCodePoints(a[1], b[1]))
    .map(([k, v]) => `${encodeRfc3986(k)}=${encodeRfc3986(v)}`)
    .join('&')
}

/** Code point order = UTF-8 byte order, what most other languages' string sort gives. */
function compareCodePoints(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}


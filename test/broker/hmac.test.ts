/**
 * The `hmac` auth strategy (SPEC §8): known answers re-derived here from hand-written canonical
 * strings (and, for the main case, literal values computed with `openssl dgst -hmac`), sha512,
 * webhook-style body mode, RFC 3986 encoding of the query, and the key never leaving.
 */
import assert from 'node:assert/strict'
import {createHash, createHmac} from 'node:crypto'

import {hmacCanonicalString, signHmac} from '../../src/broker/auth/hmac'
import type {HmacConfig} from '../../src/broker/auth/hmac'
import type {AuthMaterial, OutgoingRequest} from '../../src/broker/auth/types'
import {AivaultError} from '../../src/errors'

const KEY = 'whsec_test_key'
const MATERIAL: AuthMaterial = {values: {secret: KEY}}
/** 1700000000.999 s: the timestamp is floored to whole seconds. */
const NOW = new Date(1_700_000_000_999)
const TS = '1700000000'
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

const SHA256_CONFIG: HmacConfig = {algorithm: 'sha256', header_name: 'X-Signature', value_template: 'sha256={{signature}}'}

function request(overrides: Partial<OutgoingRequest> = {}): OutgoingRequest {
  return {method: 'GET', host: 'api.example.com', port: 443, path: '/', query: [], headers: [], body: Buffer.alloc(0), ...overrides}
}

const hmacHex = (algorithm: string, key: string, data: string | Buffer): string => createHmac(algorithm, key).update(data).digest('hex')

/** `POST /v1/x?b=2&a=1&a=0` with body `{"x":1}`. */
const POST_X = request({
  method: 'POST',
  path: '/v1/x',
  query: [['b', '2'], ['a', '1'], ['a', '0']],
  headers: [['content-type', 'application/json']],
  body: Buffer.from('{"x":1}'),
})
// sha256('{"x":1}'), computed with sha256sum.
const POST_X_BODY_SHA256 = '5041bf1f713df204784353e82f6a4a535931cb64f1f4b4a5aeaffcb720918b22'
const POST_X_STRING = `POST\n/v1/x\na=0&a=1&b=2\n${TS}\n${POST_X_BODY_SHA256}`

function headerValue(headers: Array<[string, string]>, name: string): string | undefined {
  const found = headers.filter(([n]) => n === name)
  assert.ok(found.length <= 1, `header ${name} appears ${found.length} times`)
  return found[0]?.[1]
}

describe('hmac auth strategy', () => {
  describe('canonical input (default)', () => {
    it('signs METHOD\\npath\\nsorted query\\ntimestamp\\nsha256(body) — known answer', () => {
      assert.equal(createHash('sha256').update('{"x":1}').digest('hex'), POST_X_BODY_SHA256)
      assert.equal(hmacCanonicalString(POST_X, TS), POST_X_STRING)

      const out = signHmac(SHA256_CONFIG, MATERIAL, POST_X, NOW)
      const expected = hmacHex('sha256', KEY, POST_X_STRING)
      // The same value from `openssl dgst -sha256 -hmac whsec_test_key` over the string above.
      assert.equal(expected, '15e003d75ec138a79a97ff6d1e74bd4dfb20ec559bded56504193030086250ec')
      assert.deepEqual(out.headers, [
        ['x-signature', `sha256=${expected}`],
        ['x-aivault-timestamp', TS],
      ])
      assert.deepEqual(out.query, [])
      assert.equal(out.pathPrefix, undefined)
      assert.equal(out.tls, undefined)
    })

    it('defaults to canonical when input is omitted', () => {
      const implicit = signHmac(SHA256_CONFIG, MATERIAL, POST_X, NOW)
      const explicit = signHmac({...SHA256_CONFIG, input: 'canonical'}, MATERIAL, POST_X, NOW)
      assert.deepEqual(implicit, explicit)
    })

    it('sha512 gives a 128-hex-digit signature over the same string', () => {
      const out = signHmac({...SHA256_CONFIG, algorithm: 'sha512', value_template: '{{signature}}'}, MATERIAL, POST_X, NOW)
      const signature = headerValue(out.headers, 'x-signature')
      assert.equal(signature, hmacHex('sha512', KEY, POST_X_STRING))
      // openssl dgst -sha512 -hmac whsec_test_key
      assert.equal(
        signature,
        '5949fe7cfdd5ca8a310e8256d6c500ffe6d256b73470aab5f2e333cd48c6b0667a56ec34dd1c9464b103a48e012792caa0c94cc398c9f9fb36812e36534f825c',
      )
      assert.match(signature ?? '', /^[0-9a-f]{128}$/)
    })

    it('an empty query is an empty line and an empty body hashes as the empty string', () => {
      const out = signHmac(SHA256_CONFIG, MATERIAL, request({method: 'DELETE', path: '/v1/items/42'}), NOW)
      const expectedString = `DELETE\n/v1/items/42\n\n${TS}\n${EMPTY_SHA256}`
      assert.equal(headerValue(out.headers, 'x-signature'), `sha256=${hmacHex('sha256', KEY, expectedString)}`)
    })

    it('percent-encodes spaces, unicode and reserved characters in the query (RFC 3986, upper-case hex)', () => {
      const req = request({
        path: '/search',
        query: [
          ['q', 'hello world'],
          ['name', 'café ☕'],
          ['r', 'a+b&c=d/e?f#g'],
          ['~-._', "!*'()"],
          ['emoji', '😀'],
          ['empty', ''],
        ],
      })
      const expectedQuery = [
        'emoji=%F0%9F%98%80',
        'empty=',
        'name=caf%C3%A9%20%E2%98%95',
        'q=hello%20world',
        'r=a%2Bb%26c%3Dd%2Fe%3Ff%23g',
        "~-._=%21%2A%27%28%29",
      ].join('&')
      const expectedString = `GET\n/search\n${expectedQuery}\n${TS}\n${EMPTY_SHA256}`
      assert.equal(hmacCanonicalString(req, TS), expectedString)
      const out = signHmac(SHA256_CONFIG, MATERIAL, req, NOW)
      assert.equal(headerValue(out.headers, 'x-signature'), `sha256=${hmacHex('sha256', KEY, expectedString)}`)
    })

    it('sorts by key then value, case-sensitively (code point order), keeping duplicates', () => {
      const req = request({query: [['b', 'z'], ['a', 'y'], ['B', 'x'], ['a', 'Y'], ['a', 'y']]})
      assert.equal(hmacCanonicalString(req, TS), `GET\n/\nB=x&a=Y&a=y&a=y&b=z\n${TS}\n${EMPTY_SHA256}`)
    })

    it('signs the path as sent (already percent-encoded) and the upper-case method', () => {
      const req = request({method: 'put', path: '/v1/files/a%20b'})
      assert.equal(hmacCanonicalString(req, TS), `PUT\n/v1/files/a%20b\n\n${TS}\n${EMPTY_SHA256}`)
    })

    it('the signature changes with the timestamp, method, path, query and body', () => {
      const base = headerValue(signHmac(SHA256_CONFIG, MATERIAL, POST_X, NOW).headers, 'x-signature')
      const variants: Array<[OutgoingRequest, Date]> = [
        [POST_X, new Date(1_700_000_001_000)],
        [{...POST_X, method: 'PUT'}, NOW],
        [{...POST_X, path: '/v1/y'}, NOW],
        [{...POST_X, query: [['a', '0']]}, NOW],
        [{...POST_X, body: Buffer.from('{"x":2}')}, NOW],
      ]
      for (const [req, when] of variants) {
        assert.notEqual(headerValue(signHmac(SHA256_CONFIG, MATERIAL, req, when).headers, 'x-signature'), base)
      }
      // Headers other than its own are not part of the canonical string.
      assert.equal(headerValue(signHmac(SHA256_CONFIG, MATERIAL, {...POST_X, headers: [['x-other', '1']]}, NOW).headers, 'x-signature'), base)
    })
  })

  describe('body input (webhook style)', () => {
    it('signs exactly the raw body bytes and sends no timestamp', () => {
      const body = Buffer.from('{"x":1}')
      const out = signHmac({...SHA256_CONFIG, input: 'body'}, MATERIAL, POST_X, NOW)
      // openssl dgst -sha256 -hmac whsec_test_key over {"x":1}
      assert.equal(hmacHex('sha256', KEY, body), 'f28cef97d7537b69eeeecd8f94bf6ada9467e2aa647f912f342435d69c0cdaea')
      assert.deepEqual(out.headers, [['x-signature', 'sha256=f28cef97d7537b69eeeecd8f94bf6ada9467e2aa647f912f342435d69c0cdaea']])
    })

    it('is independent of method, path, query and clock; binary bodies are signed byte for byte', () => {
      const body = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x41, 0x0a])
      const config: HmacConfig = {algorithm: 'sha512', header_name: 'x-hub-signature', value_template: 'v1={{signature}}', input: 'body'}
      const one = signHmac(config, MATERIAL, request({method: 'POST', path: '/a', query: [['k', 'v']], body}), NOW)
      const two = signHmac(config, MATERIAL, request({method: 'PUT', path: '/b', body}), new Date(0))
      assert.deepEqual(one, two)
      assert.deepEqual(one.headers, [['x-hub-signature', `v1=${hmacHex('sha512', KEY, body)}`]])
    })

    it('an empty body signs zero bytes', () => {
      const out = signHmac({...SHA256_CONFIG, input: 'body'}, MATERIAL, request(), NOW)
      assert.equal(headerValue(out.headers, 'x-signature'), `sha256=${hmacHex('sha256', KEY, Buffer.alloc(0))}`)
    })
  })

  describe('the key and the template', () => {
    it('uses the UTF-8 bytes of the secret as the key', () => {
      const key = 'clé-🔑'
      const out = signHmac({...SHA256_CONFIG, input: 'body'}, {values: {secret: key}}, request({body: Buffer.from('hi')}), NOW)
      const expected = createHmac('sha256', Buffer.from(key, 'utf8')).update('hi').digest('hex')
      assert.equal(headerValue(out.headers, 'x-signature'), `sha256=${expected}`)
    })

    it('never sends the key: it is in redact and nowhere in headers, query or path', () => {
      for (const input of ['canonical', 'body'] as const) {
        const template = 'Signature keyId="k1",sig="{{signature}}"'
        const out = signHmac({...SHA256_CONFIG, value_template: template, input}, MATERIAL, POST_X, NOW)
        assert.deepEqual(out.redact, [KEY])
        const sent = JSON.stringify({headers: out.headers, query: out.query, pathPrefix: out.pathPrefix, tls: out.tls})
        assert.ok(!sent.includes(KEY), `the key leaked in ${input} mode`)
      }
    })

    it('replaces every {{signature}} and nothing else (other placeholders are left as text, never the secret)', () => {
      const out = signHmac({...SHA256_CONFIG, value_template: 'a={{signature}};b={{signature}};c={{secret}}'}, MATERIAL, POST_X, NOW)
      const signature = hmacHex('sha256', KEY, POST_X_STRING)
      assert.equal(headerValue(out.headers, 'x-signature'), `a=${signature};b=${signature};c={{secret}}`)
    })

    it('refuses bad configuration and missing key material with auth_failed, without echoing the key', () => {
      const cases: Array<[HmacConfig, AuthMaterial]> = [
        [SHA256_CONFIG, {values: {}}],
        [SHA256_CONFIG, {values: {secret: ''}}],
        [{...SHA256_CONFIG, value_template: 'no placeholder'}, MATERIAL],
        [{...SHA256_CONFIG, algorithm: 'md5' as never}, MATERIAL],
        [{...SHA256_CONFIG, header_name: 'bad header'}, MATERIAL],
        [{...SHA256_CONFIG, input: 'headers' as never}, MATERIAL],
      ]
      for (const [config, material] of cases) {
        assert.throws(
          () => signHmac(config, material, POST_X, NOW),
          (error: unknown) => error instanceof AivaultError && error.code === 'auth_failed' && !error.message.includes(KEY),
        )
      }
    })
  })
})

/**
 * How `aivault serve` reads a request (src/server/request-parts.ts, SPEC §10): the route of a
 * raw path, the credential id in `/v/<credential>/<path>`, where the proxy token is taken from,
 * which caller headers may go upstream, and which clients count as loopback.
 */
import assert from 'node:assert/strict'

import {AivaultError} from '../../src/errors'
import {bearerOf, decodeCredentialId, forwardedHeaders, isLoopback, splitPassthrough, tokenFrom} from '../../src/server/request-parts'

const code = (fn: () => unknown, expected: string) => assert.throws(fn, (error: unknown) => error instanceof AivaultError && error.code === expected)
const query = (text: string) => new URL(`/?${text}`, 'http://aivault.local')

describe('server/request-parts: passthrough routing', () => {
  it('splits /v/<credential>/<rest>, keeping the rest raw (dot segments and encodings for the broker to judge)', () => {
    assert.deepEqual(splitPassthrough('/v/openai/v1/models'), {segment: 'openai', rest: '/v1/models'})
    assert.deepEqual(splitPassthrough('/v/openai/v1/../admin'), {segment: 'openai', rest: '/v1/../admin'})
    assert.deepEqual(splitPassthrough('/v/my%2Dcred/a%2Fb'), {segment: 'my%2Dcred', rest: '/a%2Fb'})
    assert.deepEqual(splitPassthrough('/v/openai/'), {segment: 'openai', rest: '/'})
  })

  it('gives the credential alone the path /', () => {
    assert.deepEqual(splitPassthrough('/v/openai'), {segment: 'openai', rest: '/'})
  })

  it('is not a passthrough without a credential segment, or outside /v/', () => {
    for (const rawPath of ['/v/', '/v', '/v//models', '/aivault/proxy', '/x/v/openai/models', '/V/openai/models', 'v/openai/models']) {
      assert.equal(splitPassthrough(rawPath), undefined, rawPath)
    }
  })

  it('decodes a percent-encoded credential id', () => {
    assert.equal(decodeCredentialId('openai'), 'openai')
    assert.equal(decodeCredentialId('my%2Dcred'), 'my-cred')
  })

  it('refuses a credential id that is a path of its own: policy_violation', () => {
    for (const segment of ['.', '..', '%2E', '%2e%2E', 'a%2Fb', 'a%5Cb', '%2F']) code(() => decodeCredentialId(segment), 'policy_violation')
  })

  it('refuses bad percent-encoding: invalid_request', () => {
    for (const segment of ['%', '%zz', 'a%E0%A4%A']) code(() => decodeCredentialId(segment), 'invalid_request')
  })
})

describe('server/request-parts: the proxy token', () => {
  it('takes Authorization: Bearer in any case of the scheme, and nothing else from that header', () => {
    assert.equal(bearerOf({authorization: 'Bearer avp_abc'}), 'avp_abc')
    assert.equal(bearerOf({authorization: 'bearer   avp_abc'}), 'avp_abc')
    assert.equal(bearerOf({authorization: 'BEARER avp_abc'}), 'avp_abc')
    for (const header of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', 'Bearer a b', 'avp_abc', 'Token avp_abc']) assert.equal(bearerOf({authorization: header}), undefined, header)
    assert.equal(bearerOf({}), undefined)
  })

  it('prefers Authorization, then x-api-key, then a token-looking query parameter', () => {
    assert.equal(tokenFrom({authorization: 'Bearer avp_header', 'x-api-key': 'avp_apikey'}, query('key=avp_query')), 'avp_header')
    assert.equal(tokenFrom({'x-api-key': 'avp_apikey'}, query('key=avp_query')), 'avp_apikey')
    assert.equal(tokenFrom({}, query('key=avp_query')), 'avp_query')
    // An Authorization that is not a bearer token does not hide the others.
    assert.equal(tokenFrom({authorization: 'Basic dXNlcjpwYXNz', 'x-api-key': 'avp_apikey'}, undefined), 'avp_apikey')
  })

  it('takes x-api-key as it is (Anthropic SDKs send the key there), but not when empty', () => {
    assert.equal(tokenFrom({'x-api-key': 'sk-anything'}, undefined), 'sk-anything')
    assert.equal(tokenFrom({'x-api-key': ''}, undefined), undefined)
  })

  it('takes a query parameter only under a key name SDKs use, and only when it looks like a proxy token', () => {
    for (const name of ['key', 'api_key', 'token', 'access_token']) assert.equal(tokenFrom({}, query(`${name}=avp_q`)), 'avp_q', name)
    assert.equal(tokenFrom({}, query('key=sk-real')), undefined)
    assert.equal(tokenFrom({}, query('other=avp_q')), undefined)
    assert.equal(tokenFrom({}, query('limit=3&api_key=avp_second')), 'avp_second')
    assert.equal(tokenFrom({}, query('key=avp%5Fencoded')), 'avp_encoded')
  })

  it('finds nothing when there is nothing', () => {
    assert.equal(tokenFrom({}, undefined), undefined)
    assert.equal(tokenFrom({accept: 'application/json'}, query('limit=3')), undefined)
  })
})

describe('server/request-parts: forwarded headers', () => {
  it('drops the caller credentials and hop-by-hop headers, keeps the rest, and repeats multi-valued ones', () => {
    const forwarded = forwardedHeaders({
      authorization: 'Bearer avp_x', 'x-api-key': 'avp_y', 'proxy-authorization': 'Basic z', cookie: 'c=1',
      host: '127.0.0.1:8080', connection: 'keep-alive', 'keep-alive': 'timeout=5', 'content-length': '3', 'transfer-encoding': 'chunked',
      te: 'trailers', trailer: 'x', upgrade: 'h2c', 'accept-encoding': 'gzip',
      accept: 'application/json', 'openai-beta': 'assistants=v2', 'x-multi': ['a', 'b'], 'x-undefined': undefined,
    })
    assert.deepEqual(forwarded, [
      {name: 'accept', value: 'application/json'},
      {name: 'openai-beta', value: 'assistants=v2'},
      {name: 'x-multi', value: 'a'},
      {name: 'x-multi', value: 'b'},
    ])
  })
})

describe('server/request-parts: loopback clients', () => {
  it('counts 127.0.0.0/8, ::1 and the IPv4-mapped 127.0.0.1 as loopback', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) assert.ok(isLoopback(address), address)
  })

  it('counts every other address, and an unknown one, as remote', () => {
    for (const address of ['10.1.2.3', '192.168.0.1', '0.0.0.0', '::', 'fe80::1', '::ffff:10.0.0.1', '128.0.0.1', '1.127.0.0', undefined]) {
      assert.equal(isLoopback(address), false, String(address))
    }
  })
})

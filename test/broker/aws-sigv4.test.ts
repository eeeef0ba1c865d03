/**
 * The `aws_sig_v4` auth strategy (SPEC §8, §15 "Signing"): AWS's published Signature Version 4
 * test suite (aws-sig-v4-test-suite: AKIDEXAMPLE, us-east-1, service `service`,
 * 20150830T123600Z), S3's single path encoding against the double encoding of every other
 * service, session tokens, secret shapes, and a cross-check against the independent `aws4`
 * package (a devDependency: always installed, so never skipped).
 */
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'

import * as aws4 from 'aws4'

import {canonicalRequestFor, signAwsSigV4} from '../../src/broker/auth/aws-sigv4'
import type {AuthInjection, AuthMaterial, OutgoingRequest} from '../../src/broker/auth/types'
import {AivaultError} from '../../src/errors'

const ACCESS_KEY_ID = 'AKIDEXAMPLE'
const SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
const SUITE_TOKEN = '6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267'
const SUITE_NOW = new Date('2015-08-30T12:36:00Z')
const SUITE_CONFIG = {service: 'service', region: 'us-east-1'}
const SUITE_MATERIAL: AuthMaterial = {values: {secret: JSON.stringify({accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY})}}
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
const SCOPE = 'AKIDEXAMPLE/20150830/us-east-1/service/aws4_request'

function request(overrides: Partial<OutgoingRequest> = {}): OutgoingRequest {
  return {method: 'GET', host: 'example.amazonaws.com', port: 443, path: '/', query: [], headers: [], body: Buffer.alloc(0), ...overrides}
}

function header(out: AuthInjection, name: string): string | undefined {
  const found = out.headers.filter(([n]) => n === name)
  assert.ok(found.length <= 1, `header ${name} appears ${found.length} times`)
  return found[0]?.[1]
}

function parseAuthorization(value: string | undefined): {credential: string; signedHeaders: string; signature: string} {
  const match = /^AWS4-HMAC-SHA256 Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(value ?? '')
  assert.ok(match, `malformed authorization header: ${value}`)
  return {credential: match[1], signedHeaders: match[2], signature: match[3]}
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex')

/**
 * Cases of AWS's SigV4 test suite, as given to the broker: the path in its request line (the wire
 * form), the query decoded into pairs, the headers other than Host and X-Amz-Date (which the
 * signer adds itself). Signatures are the published ones.
 */
interface SuiteCase {
  name: string
  request: Partial<OutgoingRequest>
  signedHeaders: string
  signature: string
}

const SUITE: SuiteCase[] = [
  {name: 'get-vanilla', request: {}, signedHeaders: 'host;x-amz-date', signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'},
  {
    name: 'get-vanilla-query-order-key-case',
    request: {query: [['Param2', 'value2'], ['Param1', 'value1']]},
    signedHeaders: 'host;x-amz-date',
    signature: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
  },
  {
    name: 'get-vanilla-empty-query-key',
    request: {query: [['Param1', 'value1']]},
    signedHeaders: 'host;x-amz-date',
    signature: 'a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb',
  },
  {
    name: 'get-vanilla-query-unreserved',
    request: {query: [['-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', '-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz']]},
    signedHeaders: 'host;x-amz-date',
    signature: '9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197',
  },
  {
    name: 'get-vanilla-utf8-query',
    request: {query: [['ሴ', 'bar']]},
    signedHeaders: 'host;x-amz-date',
    signature: '2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04',
  },
  {name: 'get-utf8', request: {path: '/ሴ'}, signedHeaders: 'host;x-amz-date', signature: '8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85'},
  {
    name: 'get-unreserved',
    request: {path: '/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'},
    signedHeaders: 'host;x-amz-date',
    signature: '07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f',
  },
  {
    name: 'get-space',
    request: {path: '/example space/'},
    signedHeaders: 'host;x-amz-date',
    signature: '652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741',
  },
  {
    name: 'get-header-value-trim',
    request: {headers: [['my-header1', ' value1'], ['my-header2', ' "a   b   c"']]},
    signedHeaders: 'host;my-header1;my-header2;x-amz-date',
    signature: 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736',
  },
  {
    name: 'get-header-key-duplicate',
    request: {headers: [['My-Header1', 'value2'], ['My-Header1', 'value2'], ['My-Header1', 'value1']]},
    signedHeaders: 'host;my-header1;x-amz-date',
    signature: 'c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea',
  },
  {
    name: 'get-header-value-order',
    request: {headers: [['My-Header1', 'value4'], ['My-Header1', 'value1'], ['My-Header1', 'value3'], ['My-Header1', 'value2']]},
    signedHeaders: 'host;my-header1;x-amz-date',
    signature: '08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01',
  },
  {name: 'post-vanilla', request: {method: 'POST'}, signedHeaders: 'host;x-amz-date', signature: '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b'},
  {
    name: 'post-vanilla-query',
    request: {method: 'POST', query: [['Param1', 'value1']]},
    signedHeaders: 'host;x-amz-date',
    signature: '28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11',
  },
  {
    name: 'post-header-key-sort',
    request: {method: 'POST', headers: [['My-Header1', 'value1']]},
    signedHeaders: 'host;my-header1;x-amz-date',
    signature: 'c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c',
  },
  {
    name: 'post-header-value-case',
    request: {method: 'POST', headers: [['My-Header1', 'VALUE1']]},
    signedHeaders: 'host;my-header1;x-amz-date',
    signature: 'cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d',
  },
  {
    name: 'post-x-www-form-urlencoded',
    request: {method: 'POST', headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: Buffer.from('Param1=value1')},
    signedHeaders: 'content-type;host;x-amz-date',
    signature: 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
  },
  {
    // The aws-c-auth revision of the same case also signs Content-Length and X-Amz-Content-Sha256.
    name: 'post-x-www-form-urlencoded (with content-length and x-amz-content-sha256 signed)',
    request: {
      method: 'POST',
      headers: [
        ['Content-Type', 'application/x-www-form-urlencoded'],
        ['Content-Length', '13'],
        ['x-amz-content-sha256', '9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e'],
      ],
      body: Buffer.from('Param1=value1'),
    },
    signedHeaders: 'content-length;content-type;host;x-amz-content-sha256;x-amz-date',
    signature: 'd3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b',
  },
]

describe('aws_sig_v4 auth strategy', () => {
  describe("AWS's SigV4 test suite", () => {
    for (const vector of SUITE) {
      it(vector.name, () => {
        const out = signAwsSigV4(SUITE_CONFIG, SUITE_MATERIAL, request(vector.request), SUITE_NOW)
        assert.equal(
          header(out, 'authorization'),
          `AWS4-HMAC-SHA256 Credential=${SCOPE}, SignedHeaders=${vector.signedHeaders}, Signature=${vector.signature}`,
        )
        assert.equal(header(out, 'x-amz-date'), '20150830T123600Z')
        assert.deepEqual(out.query, [])
      })
    }

    it('get-vanilla-with-session-token: the token is sent and signed', () => {
      const material = {values: {secret: JSON.stringify({accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY, sessionToken: SUITE_TOKEN})}}
      const out = signAwsSigV4(SUITE_CONFIG, material, request(), SUITE_NOW)
      assert.equal(
        header(out, 'authorization'),
        `AWS4-HMAC-SHA256 Credential=${SCOPE}, SignedHeaders=host;x-amz-date;x-amz-security-token, ` +
          'Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8',
      )
      assert.equal(header(out, 'x-amz-security-token'), SUITE_TOKEN)
      assert.ok(out.redact.includes(SUITE_TOKEN))
    })

    it('builds the published canonical requests', () => {
      const date: Array<[string, string]> = [['x-amz-date', '20150830T123600Z']]
      const vanilla = canonicalRequestFor('service', request(), date)
      assert.equal(vanilla.canonicalRequest, `GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n${EMPTY_SHA256}`)
      // The string to sign's last line, as published for get-vanilla.
      assert.equal(sha256(vanilla.canonicalRequest), 'bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63')

      const trim = canonicalRequestFor('service', request({headers: [['my-header1', ' value1'], ['my-header2', ' "a   b   c"']]}), date)
      assert.equal(
        trim.canonicalRequest,
        'GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:"a b c"\nx-amz-date:20150830T123600Z\n\n' +
          `host;my-header1;my-header2;x-amz-date\n${EMPTY_SHA256}`,
      )

      const duplicate = canonicalRequestFor('service', request({headers: [['My-Header1', 'value2'], ['My-Header1', 'value2'], ['My-Header1', 'value1']]}), date)
      assert.match(duplicate.canonicalRequest, /\nmy-header1:value2,value2,value1\n/)

      const utf8 = canonicalRequestFor('service', request({path: '/ሴ', query: [['ሴ', 'bar']]}), date)
      assert.equal(utf8.canonicalRequest.split('\n').slice(0, 3).join('\n'), 'GET\n/%E1%88%B4\n%E1%88%B4=bar')

      const form = canonicalRequestFor(
        'service',
        request({method: 'POST', headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: Buffer.from('Param1=value1')}),
        date,
      )
      assert.equal(
        form.canonicalRequest,
        'POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n' +
          'content-type;host;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e',
      )
      assert.equal(sha256(form.canonicalRequest), '42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281')
    })
  })

  describe('canonical URI, query and headers', () => {
    const date: Array<[string, string]> = [['x-amz-date', '20150830T123600Z']]
    const line = (service: string, overrides: Partial<OutgoingRequest>, index: number): string =>
      canonicalRequestFor(service, request(overrides), date).canonicalRequest.split('\n')[index]

    it('double-encodes the wire path for every service except S3, which encodes once', () => {
      const path = '/my bucket/a%20b/c:d@e/%E1%88%B4/x+y'
      assert.equal(line('service', {path}, 1), '/my%20bucket/a%2520b/c%3Ad%40e/%25E1%2588%25B4/x%2By')
      assert.equal(line('s3', {path}, 1), '/my%20bucket/a%20b/c%3Ad%40e/%E1%88%B4/x%2By')
      assert.equal(line('execute-api', {path: '/a%20b/c:d'}, 1), '/a%2520b/c%3Ad')
      assert.equal(line('s3', {path: '/a%20b/c:d'}, 1), '/a%20b/c%3Ad')
      assert.equal(line('s3', {path: '/docs/%E1%88%B4.txt'}, 1), '/docs/%E1%88%B4.txt')
      assert.equal(line('service', {path: '/docs/%E1%88%B4.txt'}, 1), '/docs/%25E1%2588%25B4.txt')
      // AWS's documented example: "/documents and settings/" on the wire as %20.
      assert.equal(line('service', {path: '/documents%20and%20settings/'}, 1), '/documents%2520and%2520settings/')
      assert.equal(line('s3', {path: '/documents%20and%20settings/'}, 1), '/documents%20and%20settings/')
    })

    it('an empty path is "/" and a trailing slash is kept', () => {
      assert.equal(line('service', {path: ''}, 1), '/')
      assert.equal(line('s3', {path: ''}, 1), '/')
      assert.equal(line('service', {path: '/a/b/'}, 1), '/a/b/')
    })

    it('encodes the query per RFC 3986, sorts by encoded key then value, always writes "="', () => {
      const query: Array<[string, string]> = [['b', ''], ['a', 'z y'], ['a', 'x'], ['A', '+'], ['flag', ''], ['é', '~*']]
      // "%" (0x25) sorts before letters: the encoded key of "é" comes first.
      assert.equal(line('service', {query}, 2), '%C3%A9=~%2A&A=%2B&a=x&a=z%20y&b=&flag=')
    })

    it('signs host (with :port only off 443) and every request header, lower-cased and sorted', () => {
      const canonical = canonicalRequestFor(
        'service',
        request({port: 8443, headers: [['X-B', 'two'], ['content-type', ' application/json '], ['x-a', 'one\t  two']]}),
        date,
      )
      assert.equal(
        canonical.canonicalRequest.split('\n').slice(3, 9).join('\n'),
        'content-type:application/json\nhost:example.amazonaws.com:8443\nx-a:one two\nx-amz-date:20150830T123600Z\nx-b:two\n',
      )
      assert.equal(canonical.signedHeaders, 'content-type;host;x-a;x-amz-date;x-b')
    })
  })

  describe('S3', () => {
    it('sends and signs x-amz-content-sha256; other services do not need it', () => {
      const body = Buffer.from('hello, bucket')
      const s3 = signAwsSigV4({service: 's3', region: 'eu-west-1'}, SUITE_MATERIAL, request({method: 'PUT', host: 'bucket.s3.eu-west-1.amazonaws.com', path: '/a%20b.txt', body}), SUITE_NOW)
      assert.equal(header(s3, 'x-amz-content-sha256'), sha256(body))
      const auth = parseAuthorization(header(s3, 'authorization'))
      assert.equal(auth.credential, 'AKIDEXAMPLE/20150830/eu-west-1/s3/aws4_request')
      assert.equal(auth.signedHeaders, 'host;x-amz-content-sha256;x-amz-date')

      const other = signAwsSigV4(SUITE_CONFIG, SUITE_MATERIAL, request({method: 'PUT', body}), SUITE_NOW)
      assert.equal(header(other, 'x-amz-content-sha256'), undefined)
    })

    it('the same path signs differently for S3 (single) and another service (double encoding)', () => {
      const req = request({path: '/a%20b'})
      const s3 = parseAuthorization(header(signAwsSigV4({service: 's3', region: 'us-east-1'}, SUITE_MATERIAL, req, SUITE_NOW), 'authorization'))
      const plain = request({path: '/a b'})
      // For S3, "/a%20b" on the wire and a literal "/a b" canonicalize alike; for others they do not.
      const s3Plain = parseAuthorization(header(signAwsSigV4({service: 's3', region: 'us-east-1'}, SUITE_MATERIAL, plain, SUITE_NOW), 'authorization'))
      assert.equal(s3.signature, s3Plain.signature)
      const svc = parseAuthorization(header(signAwsSigV4(SUITE_CONFIG, SUITE_MATERIAL, req, SUITE_NOW), 'authorization'))
      const svcPlain = parseAuthorization(header(signAwsSigV4(SUITE_CONFIG, SUITE_MATERIAL, plain, SUITE_NOW), 'authorization'))
      assert.notEqual(svc.signature, svcPlain.signature)
    })
  })

  describe('credentials and secrecy', () => {
    it('accepts camelCase JSON, snake_case JSON and registry placeholders alike', () => {
      const expected = header(signAwsSigV4(SUITE_CONFIG, SUITE_MATERIAL, request(), SUITE_NOW), 'authorization')
      const materials: AuthMaterial[] = [
        {values: {secret: JSON.stringify({access_key_id: ACCESS_KEY_ID, secret_access_key: SECRET_ACCESS_KEY})}},
        {values: {access_key_id: ACCESS_KEY_ID, secret_access_key: SECRET_ACCESS_KEY}},
        // A registry provider naming the secret access key `secret` next to `access_key_id`.
        {values: {access_key_id: ACCESS_KEY_ID, secret: SECRET_ACCESS_KEY}},
      ]
      for (const material of materials) assert.equal(header(signAwsSigV4(SUITE_CONFIG, material, request(), SUITE_NOW), 'authorization'), expected)

      const snakeToken = {values: {secret: JSON.stringify({access_key_id: ACCESS_KEY_ID, secret_access_key: SECRET_ACCESS_KEY, session_token: SUITE_TOKEN})}}
      const placeholderToken = {values: {access_key_id: ACCESS_KEY_ID, secret_access_key: SECRET_ACCESS_KEY, session_token: SUITE_TOKEN}}
      for (const material of [snakeToken, placeholderToken]) {
        const out = signAwsSigV4(SUITE_CONFIG, material, request(), SUITE_NOW)
        assert.equal(parseAuthorization(header(out, 'authorization')).signature, '07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8')
      }
    })

    it('an empty or null sessionToken means no token', () => {
      for (const sessionToken of ['', null]) {
        const material = {values: {secret: JSON.stringify({accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY, sessionToken})}}
        const out = signAwsSigV4(SUITE_CONFIG, material, request(), SUITE_NOW)
        assert.equal(header(out, 'x-amz-security-token'), undefined)
        assert.equal(parseAuthorization(header(out, 'authorization')).signature, '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31')
      }
    })

    it('the secret access key appears nowhere in the output; redact holds it, the token and the signature', () => {
      const material = {values: {secret: JSON.stringify({accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY, sessionToken: SUITE_TOKEN})}}
      for (const service of ['service', 's3']) {
        const out = signAwsSigV4({service, region: 'us-east-1'}, material, request({method: 'POST', body: Buffer.from('{}'), query: [['a', 'b']]}), SUITE_NOW)
        const sent = JSON.stringify({headers: out.headers, query: out.query, pathPrefix: out.pathPrefix, tls: out.tls})
        assert.ok(!sent.includes(SECRET_ACCESS_KEY))
        assert.ok(!sent.includes(encodeURIComponent(SECRET_ACCESS_KEY)))
        const signature = parseAuthorization(header(out, 'authorization')).signature
        assert.deepEqual([...out.redact].sort(), [SECRET_ACCESS_KEY, SUITE_TOKEN, signature].sort())
        assert.deepEqual(out.headers.map(([name]) => name).sort(), service === 's3'
          ? ['authorization', 'x-amz-content-sha256', 'x-amz-date', 'x-amz-security-token']
          : ['authorization', 'x-amz-date', 'x-amz-security-token'])
      }
    })

    it('malformed secrets fail with auth_failed and a message that quotes nothing of the secret', () => {
      const secrets = [
        'not json wJalrXUtnFEMI',
        '"wJalrXUtnFEMI/K7MDENG"',
        '[]',
        'null',
        JSON.stringify({accessKeyId: ACCESS_KEY_ID}),
        JSON.stringify({secretAccessKey: SECRET_ACCESS_KEY}),
        JSON.stringify({accessKeyId: 42, secretAccessKey: SECRET_ACCESS_KEY}),
        JSON.stringify({accessKeyId: ACCESS_KEY_ID, secretAccessKey: ''}),
        JSON.stringify({accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY, sessionToken: 7}),
      ]
      const materials: AuthMaterial[] = [...secrets.map((secret) => ({values: {secret}})), {values: {}}, {values: {access_key_id: ACCESS_KEY_ID}}]
      for (const material of materials) {
        assert.throws(
          () => signAwsSigV4(SUITE_CONFIG, material, request(), SUITE_NOW),
          (error: unknown) =>
            error instanceof AivaultError &&
            error.code === 'auth_failed' &&
            error.message === 'the aws_sig_v4 secret must be JSON {accessKeyId, secretAccessKey, sessionToken?}',
        )
      }
    })

    it('needs a service and a region', () => {
      assert.throws(() => signAwsSigV4({service: '', region: 'us-east-1'}, SUITE_MATERIAL, request(), SUITE_NOW), (e: unknown) => e instanceof AivaultError && e.code === 'auth_failed')
      assert.throws(() => signAwsSigV4({service: 's3', region: ''}, SUITE_MATERIAL, request(), SUITE_NOW), (e: unknown) => e instanceof AivaultError && e.code === 'auth_failed')
    })

    it('uses the UTC date of `now` for x-amz-date and the credential scope', () => {
      const out = signAwsSigV4({service: 'sts', region: 'eu-central-1'}, SUITE_MATERIAL, request(), new Date('2024-02-29T23:59:59.999Z'))
      assert.equal(header(out, 'x-amz-date'), '20240229T235959Z')
      assert.equal(parseAuthorization(header(out, 'authorization')).credential, 'AKIDEXAMPLE/20240229/eu-central-1/sts/aws4_request')
    })
  })

  describe('cross-check with the independent aws4 package', () => {
    /** Percent-encode the way a client puts the query on the wire. */
    const wireQuery = (query: Array<[string, string]>): string =>
      query.map(([k, v]) => `${encodeURIComponent(k).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())}=${encodeURIComponent(v).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())}`).join('&')

    const cases: Array<{name: string; service: string; region: string; now: Date; token?: string; request: Partial<OutgoingRequest>}> = [
      {name: 'GET with an encoded path and a messy query', service: 'execute-api', region: 'eu-west-1', now: new Date('2024-05-06T07:08:09Z'),
        request: {path: '/prod/a%20b/c:d@e/%E1%88%B4', query: [['b', '2'], ['a', ' x'], ['a', '1'], ['ü', 'ö ~'], ['k', "(it's)*"]], headers: [['x-custom', '  a   b ']]}},
      {name: 'POST JSON to a regional service', service: 'bedrock', region: 'us-west-2', now: new Date('2025-01-02T03:04:05Z'),
        request: {method: 'POST', host: 'bedrock-runtime.us-west-2.amazonaws.com', path: '/model/anthropic.claude-v2/invoke', headers: [['content-type', 'application/json'], ['content-length', '15'], ['accept', '*/*']], body: Buffer.from('{"prompt":"hi"}')}},
      {name: 'S3 PUT with spaces and unicode in the key', service: 's3', region: 'us-east-1', now: new Date('2023-11-12T13:14:15Z'),
        request: {method: 'PUT', host: 'my-bucket.s3.amazonaws.com', path: '/photos/2023/caf%C3%A9%20menu.jpg', headers: [['content-type', 'image/jpeg'], ['content-length', '5']], body: Buffer.from([1, 2, 3, 4, 5])}},
      {name: 'S3 GET with list query', service: 's3', region: 'ap-southeast-2', now: new Date('2023-11-12T13:14:15Z'),
        request: {host: 'my-bucket.s3.ap-southeast-2.amazonaws.com', path: '/', query: [['list-type', '2'], ['prefix', 'a b/c'], ['max-keys', '10']]}},
      {name: 'session token and a non-default port', service: 'sqs', region: 'us-east-1', now: new Date('2022-02-03T04:05:06Z'), token: 'FwoGZXIvYXdzEExampleSessionToken+/=',
        request: {method: 'POST', host: 'sqs.us-east-1.amazonaws.com', port: 8443, headers: [['content-type', 'application/x-www-form-urlencoded'], ['content-length', '24']], body: Buffer.from('Action=ListQueues&V=2012')}},
    ]

    for (const c of cases) {
      it(c.name, function () {
        const req = request(c.request)
        const hostHeader = req.port === 443 ? req.host : `${req.host}:${req.port}`
        const opts: any = {
          service: c.service,
          region: c.region,
          method: req.method,
          host: req.host,
          path: req.path + (req.query.length > 0 ? `?${wireQuery(req.query)}` : ''),
          headers: Object.fromEntries([...req.headers, ['Host', hostHeader], ['X-Amz-Date', c.now.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '')]]),
          body: req.body.length > 0 ? req.body : undefined,
        }
        const creds: {accessKeyId: string; secretAccessKey: string; sessionToken?: string} = {accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY}
        if (c.token) creds.sessionToken = c.token
        aws4.sign(opts, creds)

        const material = {values: {secret: JSON.stringify({accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY, sessionToken: c.token})}}
        const out = signAwsSigV4({service: c.service, region: c.region}, material, req, c.now)
        assert.equal(header(out, 'authorization'), opts.headers.Authorization)
        if (c.service === 's3') assert.equal(header(out, 'x-amz-content-sha256'), opts.headers['X-Amz-Content-Sha256'])
        if (c.token) assert.equal(header(out, 'x-amz-security-token'), opts.headers['X-Amz-Security-Token'])
      })
    }
  })
})

/**
 * Broker errors as problem documents (src/server/problem.ts, SPEC §15 HTTP server): the status
 * for each code, and the `{type, title, status, code, detail}` members SDKs and callers read.
 */
import assert from 'node:assert/strict'

import {AivaultError, type ErrorCode} from '../../src/errors'
import {problemOf} from '../../src/server/problem'

const documentOf = (error: unknown) => {
  const {status, body} = problemOf(error)
  return {status, doc: JSON.parse(body)}
}

describe('server/problem: problemOf', () => {
  const statuses: Array<[ErrorCode, number]> = [
    ['token_invalid', 401],
    ['policy_violation', 403],
    ['secret_not_accessible', 403],
    ['capability_not_found', 404],
    ['credential_not_found', 404],
    ['secret_not_found', 404],
    ['not_found', 404],
    ['credential_ambiguous', 409],
    ['conflict', 409],
    ['invalid_request', 400],
    ['body_too_large', 413],
    ['vault_locked', 423],
    ['rate_limited', 429],
    ['upstream_unreachable', 502],
    ['oauth_refresh_failed', 502],
    ['auth_failed', 502],
    ['upstream_timeout', 504],
  ]

  for (const [code, status] of statuses) {
    it(`${code} is ${status}`, () => {
      const {status: got, doc} = documentOf(new AivaultError(code, `the ${code} detail`))
      assert.equal(got, status)
      assert.equal(doc.status, status)
      assert.equal(doc.code, code)
      assert.equal(doc.type, `https://aivault.dev/errors/${code}`)
      assert.equal(doc.title, code.replace(/_/g, ' '))
      assert.equal(doc.detail, `the ${code} detail`)
      assert.deepEqual(doc.error, {message: `the ${code} detail`, type: code, code})
    })
  }

  it('a code without an HTTP meaning of its own is 500, still with its code', () => {
    for (const code of ['vault_tampered', 'vault_unavailable', 'plugin_untrusted'] as const) {
      const {status, doc} = documentOf(new AivaultError(code, 'x'))
      assert.equal(status, 500, code)
      assert.equal(doc.code, code)
    }
  })

  it('a plain error is an invalid_request (400) carrying its message; a non-error a generic one', () => {
    const plain = documentOf(new Error('unexpected end of JSON input'))
    assert.equal(plain.status, 400)
    assert.equal(plain.doc.code, 'invalid_request')
    assert.equal(plain.doc.detail, 'unexpected end of JSON input')
    const odd = documentOf(undefined)
    assert.equal(odd.status, 400)
    assert.equal(odd.doc.detail, 'request failed')
  })
})

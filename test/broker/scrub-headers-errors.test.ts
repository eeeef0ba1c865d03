/**
 * The other places a secret could reach a caller (issue 12 items 1, 2, 4): response header
 * values, error messages and hints, and the basic-auth user name.
 */
import assert from 'node:assert/strict'

import {basicAuth} from '../../src/broker/auth/simple'
import {spellingsWith} from '../../src/broker/route'
import {REDACTED, scrubbedError, scrubHeaderValues, scrubText, secretSpellings} from '../../src/broker/response/scrub'
import {AivaultError} from '../../src/errors'

const KEY = 'AIzaSy-header-SECRET/0123+456'
const SPELLINGS = secretSpellings([KEY])

describe('broker/scrub: scrubHeaderValues', () => {
  it('redacts a Location carrying query or path auth and any header echoing the key', () => {
    const headers: Array<[string, string]> = [
      ['content-type', 'application/json'],
      ['location', `https://generativelanguage.googleapis.com/v1beta/models/x?alt=json&key=${encodeURIComponent(KEY).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase())}`],
      ['www-authenticate', `Bearer realm="api", error="invalid_token", token="${KEY}"`],
      ['x-echo', Buffer.from(KEY).toString('base64')],
      ['link', `</bot${KEY}/getMe>; rel="canonical"`],
    ]
    const out = scrubHeaderValues(headers, SPELLINGS)
    assert.deepEqual(out.map(([name]) => name), headers.map(([name]) => name))
    assert.equal(out[0][1], 'application/json')
    assert.equal(out[1][1], `https://generativelanguage.googleapis.com/v1beta/models/x?alt=json&key=${REDACTED}`)
    assert.equal(out[2][1], `Bearer realm="api", error="invalid_token", token="${REDACTED}"`)
    assert.ok(out[3][1].startsWith(REDACTED), out[3][1])
    assert.equal(out[4][1], `</bot${REDACTED}/getMe>; rel="canonical"`)
  })

  it('gives the same array back when no value carries a secret, and scrubs a non-ASCII secret as the latin1 text headers arrive in', () => {
    const clean: Array<[string, string]> = [['content-type', 'text/plain'], ['x-request-id', 'req_1']]
    assert.equal(scrubHeaderValues(clean, SPELLINGS), clean)
    assert.equal(scrubHeaderValues(clean, []), clean)
    const unicode = 'clé-secrète-42'
    const asReceived = Buffer.from(`v=${unicode}`).toString('latin1')
    assert.deepEqual(scrubHeaderValues([['x-echo', asReceived]], secretSpellings([unicode])), [['x-echo', `v=${REDACTED}`]])
  })
})

describe('broker/scrub: scrubbedError', () => {
  it('redacts the message and hint of an AivaultError, keeping its code and exit code', () => {
    const error = new AivaultError('policy_violation', `refusing a redirect outside the capability (/bot${KEY}/getUpdates)`, {hint: `see ${encodeURIComponent(KEY)}`, exitCode: 1})
    const out = scrubbedError(error, SPELLINGS) as AivaultError
    assert.ok(out instanceof AivaultError)
    assert.equal(out.code, 'policy_violation')
    assert.equal(out.exitCode, 1)
    assert.equal(out.message, `refusing a redirect outside the capability (/bot${REDACTED}/getUpdates)`)
    assert.equal(out.hint, `see ${REDACTED}`)
  })

  it('turns any other error carrying a secret into upstream_unreachable, and leaves clean errors as they are', () => {
    const out = scrubbedError(new TypeError(`bad URL https://x/?key=${KEY}`), SPELLINGS) as AivaultError
    assert.equal(out.code, 'upstream_unreachable')
    assert.equal(out.message, `bad URL https://x/?key=${REDACTED}`)
    const clean = new AivaultError('upstream_timeout', 'api.example.com did not answer within 100 ms')
    assert.equal(scrubbedError(clean, SPELLINGS), clean)
    assert.equal(scrubbedError('not an error', SPELLINGS), 'not an error')
  })
})

describe('broker/auth: basic auth redacts the user name taken from the secret', () => {
  const spellingsOf = (config: Parameters<typeof basicAuth>[0], values: Record<string, string>) => {
    const injection = basicAuth(config, {values})
    return spellingsWith(Object.values(values), injection.redact)
  }

  it('from a JSON secret or user:pass text (for some APIs the user name is the key)', () => {
    for (const secret of [JSON.stringify({username: 'acct-user-SECRET-77', password: 'pw-SECRET-1234'}), 'acct-user-SECRET-77:pw-SECRET-1234']) {
      const spellings = spellingsOf({}, {secret})
      assert.equal(scrubText('user acct-user-SECRET-77 pass pw-SECRET-1234', spellings), `user ${REDACTED} pass ${REDACTED}`)
      // user:pass in base64, at any alignment inside a longer base64 string.
      const blob = Buffer.from('{"auth":"acct-user-SECRET-77:pw-SECRET-1234"}').toString('base64')
      assert.ok(scrubText(blob, spellings).includes(REDACTED), blob)
    }
  })

  it('but not a user name written in the registry (Mailchimp\'s "anystring")', () => {
    const spellings = spellingsOf({username: 'anystring', password: '{{password}}'}, {password: 'mc-SECRET-key-1234'})
    assert.equal(scrubText('anystring mc-SECRET-key-1234', spellings), `anystring ${REDACTED}`)
  })
})

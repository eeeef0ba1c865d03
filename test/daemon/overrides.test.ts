/**
 * A daemon never silently serves a client whose AIVAULT_DEV_* overrides differ from its own
 * (src/daemon/overrides.ts, SPEC §10, §14): what a client states, and what the daemon refuses.
 */
import assert from 'node:assert/strict'
import * as path from 'node:path'

import {checkClientOverrides, testOverridesOf} from '../../src/daemon/overrides'
import {AivaultError} from '../../src/errors'

const testing = () => true
const notTesting = () => false

function refusal(fn: () => void): AivaultError {
  try {
    fn()
  } catch (error) {
    assert.ok(error instanceof AivaultError, String(error))
    return error
  }
  assert.fail('no refusal')
}

describe('daemon/overrides: testOverridesOf', () => {
  it('states the AIVAULT_DEV_* variables that are set and not empty, the CA path made absolute', () => {
    const claim = testOverridesOf({
      AIVAULT_DEV_RESOLVE: 'api.openai.com=127.0.0.1:8443',
      AIVAULT_DEV_CA_CERT_PATH: 'certs/ca.pem',
      AIVAULT_DEV_ALLOW_NON_DEFAULT_PORTS: '',
      AIVAULT_DIR: '/elsewhere',
      PATH: '/usr/bin',
    })
    assert.deepEqual(claim, {AIVAULT_DEV_RESOLVE: 'api.openai.com=127.0.0.1:8443', AIVAULT_DEV_CA_CERT_PATH: path.resolve('certs/ca.pem')})
  })

  it('states nothing for an environment without overrides', () => {
    assert.deepEqual(testOverridesOf({HOME: '/home/x'}), {})
  })
})

describe('daemon/overrides: checkClientOverrides', () => {
  const daemon = {AIVAULT_DEV_RESOLVE: 'api.openai.com=127.0.0.1:8443'}

  it('serves a client that states the same overrides, or none at all (a hand-written client)', () => {
    checkClientOverrides(daemon, {AIVAULT_DEV_RESOLVE: 'api.openai.com=127.0.0.1:8443'}, testing)
    checkClientOverrides(daemon, undefined, testing)
    checkClientOverrides({}, {}, notTesting)
  })

  it('refuses a difference with a conflict naming each variable and how it differs, hinting at a restart', () => {
    const error = refusal(() => checkClientOverrides(daemon, {AIVAULT_DEV_RESOLVE: 'api.openai.com=127.0.0.1:9999', AIVAULT_DEV_ALLOW_PRIVATE_UPSTREAMS: '1'}, testing))
    assert.equal(error.code, 'conflict')
    assert.match(error.message, /AIVAULT_DEV_RESOLVE \(a different value in aivaultd\)/)
    assert.match(error.message, /AIVAULT_DEV_ALLOW_PRIVATE_UPSTREAMS \(set here, not in aivaultd\)/)
    assert.match(error.hint ?? '', /aivault daemon restart/)
    const missing = refusal(() => checkClientOverrides(daemon, {}, testing))
    assert.match(missing.message, /AIVAULT_DEV_RESOLVE \(set in aivaultd, not here\)/)
  })

  it('never shows an override value in the refusal', () => {
    const error = refusal(() => checkClientOverrides(daemon, {AIVAULT_DEV_RESOLVE: 'api.openai.com=10.9.8.7:1'}, testing))
    assert.ok(!error.message.includes('10.9.8.7') && !error.message.includes('127.0.0.1'), error.message)
  })

  it('refuses any stated override in a vault that is not a testing vault, as an in-process call would', () => {
    const error = refusal(() => checkClientOverrides({}, {AIVAULT_DEV_ALLOW_PRIVATE_UPSTREAMS: '1'}, notTesting))
    assert.equal(error.code, 'invalid_request')
    assert.match(error.message, /AIVAULT_DEV_ALLOW_PRIVATE_UPSTREAMS is only honoured in a vault created with "aivault init --testing"/)
  })

  it('refuses a malformed claim: not an object, an unknown name, a value that is not a string', () => {
    for (const claimed of [null, 'AIVAULT_DEV_RESOLVE=x', ['AIVAULT_DEV_RESOLVE'], {AIVAULT_DIR: '/x'}, {AIVAULT_DEV_RESOLVE: 1}]) {
      const error = refusal(() => checkClientOverrides({}, claimed, testing))
      assert.equal(error.code, 'invalid_request', JSON.stringify(claimed))
      assert.match(error.message, /testOverrides must map AIVAULT_DEV_\* variable names to strings/)
    }
  })
})

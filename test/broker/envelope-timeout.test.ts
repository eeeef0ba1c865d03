/**
 * The envelope's timeout is capped (SPEC §7, hardened; issue 12 item 19): one call may hold an
 * upstream connection for at most 10 minutes.
 */
import assert from 'node:assert/strict'

import {MAX_TIMEOUT_MS, parseEnvelope} from '../../src/broker/request/envelope'
import {AivaultError} from '../../src/errors'

describe('broker/envelope: timeoutMs is capped at 10 minutes', () => {
  it('accepts up to 600000 ms', () => {
    assert.equal(MAX_TIMEOUT_MS, 600_000)
    for (const timeoutMs of [1, 120_000, 600_000]) assert.equal(parseEnvelope({capability: 'c', request: {}, timeoutMs}).timeoutMs, timeoutMs)
  })

  it('refuses more with invalid_request, a message naming the maximum and a hint', () => {
    for (const timeoutMs of [600_001, 3_600_000, Number.MAX_SAFE_INTEGER]) {
      assert.throws(
        () => parseEnvelope({capability: 'c', request: {}, timeoutMs}),
        (error: unknown) =>
          error instanceof AivaultError && error.code === 'invalid_request' && error.message.includes(`timeoutMs ${timeoutMs}`) && error.message.includes('600000 ms (10 minutes)') && error.hint === 'pass at most 600000',
        String(timeoutMs),
      )
    }
  })
})

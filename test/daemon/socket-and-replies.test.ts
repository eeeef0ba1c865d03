/**
 * The small fixed rules around aivaultd's socket and frames (SPEC §10, §15): the socket mode a
 * user may ask for, where the shared socket lives, which ops it serves, and how an error reply
 * becomes an error again on the client side.
 */
import assert from 'node:assert/strict'

import {replyError} from '../../src/daemon/client'
import {SHARED_OPS, type DaemonOp} from '../../src/daemon/protocol'
import {sharedSocketPath} from '../../src/daemon/server'
import {socketModeFromEnv} from '../../src/daemon/socket-files'
import {AivaultError} from '../../src/errors'

describe('daemon/socket-files: socketModeFromEnv', () => {
  it('reads three octal digits, with or without a leading 0; unset or empty is the default', () => {
    assert.equal(socketModeFromEnv({AIVAULTD_SOCKET_MODE: '600'}), 0o600)
    assert.equal(socketModeFromEnv({AIVAULTD_SOCKET_MODE: '0660'}), 0o660)
    assert.equal(socketModeFromEnv({AIVAULTD_SOCKET_MODE: '777'}), 0o777)
    assert.equal(socketModeFromEnv({}), undefined)
    assert.equal(socketModeFromEnv({AIVAULTD_SOCKET_MODE: ''}), undefined)
  })

  it('refuses a mode the owner could not read and write through, and anything not octal', () => {
    for (const text of ['400', '200', '066', '680', '6', '6600', 'rw-------', '0o600', ' 600', '-600']) {
      assert.throws(() => socketModeFromEnv({AIVAULTD_SOCKET_MODE: text}), (error: unknown) =>
        error instanceof AivaultError && error.code === 'invalid_request' && error.message.startsWith(`AIVAULTD_SOCKET_MODE ${JSON.stringify(text)} is not an octal file mode`), text)
    }
  })
})

describe('daemon/server: the shared socket', () => {
  it('lives in a "shared" folder next to the socket, under the same name', () => {
    assert.equal(sharedSocketPath('/home/u/.aivault/run/aivaultd.sock'), '/home/u/.aivault/run/shared/aivaultd.sock')
  })

  it('serves invocation only, never a key operation', () => {
    const all: DaemonOp[] = ['health', 'status', 'unlock', 'lock', 'execute', 'execute_stream', 'seal', 'seal_tenant', 'shutdown']
    assert.deepEqual(all.filter((op) => SHARED_OPS.has(op)), ['health', 'execute', 'execute_stream'])
  })
})

describe('daemon/client: replyError', () => {
  it('gives back the code, message and hint of an error reply', () => {
    const error = replyError({id: 1, ok: false, error: {code: 'rate_limited', message: 'openai/models allows 2 calls a minute', hint: 'wait a minute'}})
    assert.ok(error instanceof AivaultError)
    assert.equal(error.code, 'rate_limited')
    assert.equal(error.message, 'openai/models allows 2 calls a minute')
    assert.equal(error.hint, 'wait a minute')
    assert.equal(error.exitCode, 1)
  })

  it('makes a reply without an error an invalid_request, not a success', () => {
    const error = replyError({id: 1, ok: false})
    assert.equal(error.code, 'invalid_request')
    assert.equal(error.message, 'aivaultd failed')
  })
})

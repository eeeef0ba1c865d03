/**
 * Size limits on bodies as they stream (src/broker/request/policy.ts): the limit is enforced on the
 * bytes that flow, and a failure before anyone reads does not take the process down.
 */
import * as assert from 'node:assert/strict'
import {PassThrough, Readable} from 'node:stream'

import {limitBytes, readWhole} from '../../src/broker/request/policy'
import {AivaultError} from '../../src/errors'

const tooLarge = () => new AivaultError('body_too_large', 'too large')

describe('broker/policy: streamed body limits', () => {
  it('passes a body within the limit through unchanged', async () => {
    const body = Buffer.from('x'.repeat(1000))
    const out = await readWhole(limitBytes(Readable.from([body.subarray(0, 400), body.subarray(400)]), 1000, tooLarge), null, tooLarge)
    assert.ok(out.equals(body))
  })

  it('fails with the limit error once the bytes that flow pass the limit', async () => {
    const source = Readable.from([Buffer.alloc(600), Buffer.alloc(600)])
    await assert.rejects(readWhole(limitBytes(source, 1000, tooLarge), null, tooLarge), (error: AivaultError) => error.code === 'body_too_large')
  })

  it('readWhole refuses a stream longer than its own limit', async () => {
    await assert.rejects(readWhole(Readable.from([Buffer.alloc(2000)]), 1000, tooLarge), (error: AivaultError) => error.code === 'body_too_large')
  })

  it('a source that fails before anyone reads ends the limited stream without an uncaught error, and a later reader sees the failure', async () => {
    const uncaught: Error[] = []
    const onUncaught = (error: Error) => uncaught.push(error)
    process.on('uncaughtException', onUncaught)
    try {
      const source = new PassThrough()
      const limited = limitBytes(source, 1000, tooLarge)
      source.destroy(new Error('the caller went away'))
      await new Promise((r) => setImmediate(r))
      assert.ok(limited.destroyed, 'the limited stream is still open after its source failed')
      await assert.rejects(readWhole(limited, null, tooLarge))
    } finally {
      process.off('uncaughtException', onUncaught)
    }
    assert.deepEqual(uncaught, [])
  })
})

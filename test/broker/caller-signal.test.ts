/**
 * CallerSignal (SPEC §7, hardened): tells what is in flight for a caller, once, that the caller
 * went away.
 */
import assert from 'node:assert/strict'

import {CallerSignal} from '../../src/broker/upstream/caller-signal'

function listener() {
  return {calls: 0, callerGone() {
    this.calls++
  }}
}

describe('broker/caller-signal', () => {
  it('tells every listener once, and is aborted from then on', () => {
    const signal = new CallerSignal()
    const [a, b] = [listener(), listener()]
    signal.add(a)
    signal.add(b)
    assert.equal(signal.aborted, false)
    signal.abort()
    signal.abort()
    assert.equal(signal.aborted, true)
    assert.deepEqual([a.calls, b.calls], [1, 1])
  })

  it('does not tell a listener that was removed, nor one added after the caller left', () => {
    const signal = new CallerSignal()
    const [removed, late] = [listener(), listener()]
    signal.add(removed)
    signal.remove(removed)
    signal.abort()
    signal.add(late)
    signal.abort()
    assert.deepEqual([removed.calls, late.calls], [0, 0])
  })

  it('tells a listener added twice once, whichever slot it went to first', () => {
    const signal = new CallerSignal()
    const [a, b, c] = [listener(), listener(), listener()]
    signal.add(a)
    signal.add(b)
    signal.remove(a)
    signal.add(b)
    signal.add(c)
    signal.add(c)
    signal.abort()
    assert.deepEqual([a.calls, b.calls, c.calls], [0, 1, 1])
  })
})

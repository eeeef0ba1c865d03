import {strict as assert} from 'node:assert'

import {AivaultError} from '../../src/errors'

/** Assert that `fn` throws an AivaultError with this code. */
export function throwsCode(fn: () => unknown, code: string, label?: string): void {
  assert.throws(
    fn,
    (error: unknown) => {
      assert.ok(error instanceof AivaultError, `${label ?? ''}: expected an AivaultError, got ${String(error)}`)
      assert.equal(error.code, code, `${label ?? ''}: ${error.message}`)
      return true
    },
    label,
  )
}

import {strict as assert} from 'node:assert'

import {useTempVault} from './fixture'

describe('e2e: the bundled CLI with DEBUG set', () => {
  const vault = useTempVault()

  // The debug shim (scripts/debug-shim.js) once required itself instead of the debug package,
  // so any DEBUG value crashed every command.
  it('runs a command and prints oclif\'s debug lines through the real debug package', () => {
    const result = vault().run(['providers', 'list'], {env: {DEBUG: 'oclif:*'}})
    assert.equal(result.status, 0, result.stderr)
    assert.match(result.stdout, /PROVIDER/)
    assert.match(result.stderr, /oclif:main/)
  })
})

/** The one definition of aivaultd's default socket (src/daemon/socket-path.ts), shared by the daemon, the CLI and the thin client. */
import assert from 'node:assert/strict'
import * as os from 'node:os'
import * as path from 'node:path'

import {daemonSocketPath} from '../../src/daemon/socket-path'
import {resolveVaultPaths} from '../../src/vault/store/paths'

describe('daemon/socket-path: daemonSocketPath', () => {
  it('takes AIVAULTD_SOCKET first, made absolute', () => {
    assert.equal(daemonSocketPath({AIVAULTD_SOCKET: 'here.sock', AIVAULT_DIR: '/v'}), path.resolve('here.sock'))
  })

  it("puts it in the run/ folder of the vault AIVAULT_DIR names (the vault's own run folder)", () => {
    const env = {AIVAULT_DIR: 'some/vault'}
    assert.equal(daemonSocketPath(env), path.join(resolveVaultPaths(env).runDir, 'aivaultd.sock'))
  })

  it('defaults to ~/.aivault/run, beside the default vault folder (also for an empty AIVAULT_DIR)', () => {
    const expected = path.join(os.homedir(), '.aivault', 'run', 'aivaultd.sock')
    assert.equal(daemonSocketPath({}), expected)
    assert.equal(daemonSocketPath({AIVAULT_DIR: '', AIVAULTD_SOCKET: ''}), expected)
    assert.equal(path.dirname(path.dirname(resolveVaultPaths({}).root)), path.dirname(path.dirname(expected)))
  })
})

/**
 * `aivault daemon stop` says so when the daemon did not stop (issue 13 part 7): with a peer on
 * AIVAULTD_SOCKET that answers the shutdown request but keeps serving, the command fails
 * (exit 1, vault_unavailable, naming the socket) instead of printing "aivaultd stopped."
 */
import * as assert from 'node:assert/strict'
import * as net from 'node:net'
import * as path from 'node:path'

import {lineSplitter} from '../../src/daemon/protocol'
import {expectJsonError, useTempVault} from './fixture'

describe('e2e daemon stop: a daemon that does not stop is reported (issue 13 part 7)', function () {
  this.timeout(60_000)
  const tv = useTempVault()

  it('exits 1 with vault_unavailable, and the human form says it did not stop', async () => {
    const socket = path.join(tv().base, 'stubborn.sock')
    const server = net.createServer((conn) => {
      conn.on(
        'data',
        lineSplitter((line) => {
          const {id} = JSON.parse(line) as {id: number}
          conn.write(JSON.stringify({id, ok: true, value: {}}) + '\n')
        }),
      )
    })
    await new Promise<void>((resolve) => server.listen(socket, resolve))
    try {
      const env = {AIVAULTD_SOCKET: socket}
      const json = await tv().runAsync(['daemon', 'stop', '--json'], {env})
      const error = expectJsonError(json, 1, 'vault_unavailable')
      assert.match(error.message, /did not stop/)
      assert.ok(error.message.includes(socket), error.message)
      const human = await tv().runAsync(['daemon', 'stop'], {env})
      assert.equal(human.status, 1)
      assert.doesNotMatch(human.stdout, /aivaultd stopped/)
      assert.match(human.stderr, /did not stop/)
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})

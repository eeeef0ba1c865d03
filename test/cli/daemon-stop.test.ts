/**
 * `stopDaemon` reports what happened (issue 13 part 7): a peer on the socket that answers the
 * shutdown request but keeps serving is `still_running`, never "stopped". The peer is a small
 * stand-in speaking aivaultd's line protocol, so each outcome is produced on purpose.
 */
import * as assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'

import {stopDaemon} from '../../src/cli/daemon-access'
import {lineSplitter} from '../../src/daemon/protocol'

/** A peer that answers every request ok; on `shutdown` it closes itself only when `obeys`. */
async function peer(socket: string, obeys: boolean): Promise<net.Server> {
  const server = net.createServer((conn) => {
    conn.on(
      'data',
      lineSplitter((line) => {
        const {id, op} = JSON.parse(line) as {id: number; op: string}
        conn.write(JSON.stringify({id, ok: true, value: {}}) + '\n')
        if (op === 'shutdown' && obeys) {
          conn.end()
          server.close()
        }
      }),
    )
  })
  await new Promise<void>((resolve) => server.listen(socket, resolve))
  return server
}

describe('stopDaemon: the truth about the daemon (issue 13 part 7)', () => {
  let dir: string
  let server: net.Server | undefined
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-stop-'))
  })
  afterEach(async () => {
    if (server?.listening) await new Promise((resolve) => server!.close(resolve))
    server = undefined
    fs.rmSync(dir, {recursive: true, force: true})
  })

  it('nothing on the socket: not_running', async () => {
    assert.equal(await stopDaemon(path.join(dir, 'none.sock')), 'not_running')
  })

  it('a daemon that goes away when asked: stopped', async () => {
    const socket = path.join(dir, 'd.sock')
    server = await peer(socket, true)
    assert.equal(await stopDaemon(socket), 'stopped')
  })

  it('a daemon that still answers after the shutdown request: still_running', async () => {
    const socket = path.join(dir, 'd.sock')
    server = await peer(socket, false)
    assert.equal(await stopDaemon(socket, 3), 'still_running')
  })
})

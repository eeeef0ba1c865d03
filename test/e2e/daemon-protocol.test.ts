/**
 * End-to-end tests of aivaultd's wire protocol and sockets (SPEC §10, §15 "Daemon protocol"):
 * newline-delimited JSON frames `{id, op, ...}` answered by `{id, ok, value}` or
 * `{id, ok: false, error: {code, message}}`, socket and folder modes, and shared mode (a
 * group-readable second socket that serves invocations but refuses key operations).
 */
import * as assert from 'node:assert/strict'
import {spawn, type ChildProcess} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as path from 'node:path'

import {ERROR_CODES, REPO_ROOT, TempVault, killDaemonsUnder, parseJson, processAlive, waitForExit} from './fixture'
import {resolveEnv, startUpstream, type Upstream} from './upstream'

const OPENAI_KEY = 'sk-daemon-protocol-e2e-SECRET-0123456789'
const PASSPHRASE = `daemon-protocol-pass-${randomBytes(12).toString('hex')}`

type Frame = {id: unknown; ok: boolean; value?: any; error?: {code: string; message: string}}

/** A raw connection to a daemon socket: write lines, read reply frames in order. */
class RawClient {
  private buffer = ''
  private readonly frames: Frame[] = []
  private readonly waiters: Array<() => void> = []
  closed = false

  private constructor(private readonly conn: net.Socket) {
    conn.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('utf8')
      let at: number
      while ((at = this.buffer.indexOf('\n')) !== -1) {
        const line = this.buffer.slice(0, at)
        this.buffer = this.buffer.slice(at + 1)
        this.frames.push(JSON.parse(line))
      }
      this.waiters.splice(0).forEach((w) => w())
    })
    conn.on('close', () => {
      this.closed = true
      this.waiters.splice(0).forEach((w) => w())
    })
    conn.on('error', () => undefined)
  }

  static connect(socket: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const conn = net.connect(socket)
      conn.once('connect', () => resolve(new RawClient(conn)))
      conn.once('error', reject)
    })
  }

  write(text: string): void {
    this.conn.write(text)
  }

  send(frame: Record<string, unknown>): void {
    this.write(JSON.stringify(frame) + '\n')
  }

  /** The next reply frame (5 s at most). */
  async next(timeoutMs = 5000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs
    while (this.frames.length === 0) {
      if (this.closed) throw new Error('the daemon closed the connection')
      if (Date.now() > deadline) throw new Error('no reply frame in time')
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100)
        this.waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
    return this.frames.shift()!
  }

  /** Send one request and return its (single) reply. */
  async request(frame: Record<string, unknown>): Promise<Frame> {
    this.send(frame)
    return this.next()
  }

  close(): void {
    this.conn.destroy()
  }
}

/** Connect, run `fn`, close. */
async function withClient<T>(socket: string, fn: (client: RawClient) => Promise<T>): Promise<T> {
  const client = await RawClient.connect(socket)
  try {
    return await fn(client)
  } finally {
    client.close()
  }
}

function assertError(frame: Frame, id: unknown, code: string): void {
  assert.equal(frame.ok, false, JSON.stringify(frame))
  assert.equal(frame.id, id, JSON.stringify(frame))
  assert.equal(frame.error?.code, code, JSON.stringify(frame))
  assert.ok(typeof frame.error?.message === 'string' && frame.error.message !== '', JSON.stringify(frame))
  assert.equal('value' in frame, false, JSON.stringify(frame))
}

const modeOf = (file: string) => fs.statSync(file).mode & 0o777
const ENVELOPE = {capability: 'openai/models', request: {method: 'GET', path: '/v1/models'}}

describe('e2e aivaultd: wire protocol and sockets (SPEC §10, §15 Daemon protocol)', function () {
  this.timeout(120_000)
  let up: Upstream

  before(async () => {
    up = await startUpstream()
  })

  after(async () => {
    await up?.close()
  })

  describe('private socket', () => {
    let tv: TempVault
    let socket: string

    before(async () => {
      tv = new TempVault()
      tv.env.AIVAULTD_IDLE_EXIT_MS = '60000'
      tv.ok(['init', '--testing'])
      tv.createSecret('OPENAI_API_KEY', OPENAI_KEY)
      const started = await tv.runAsync(['daemon', 'restart', '--json'], {env: resolveEnv(up)})
      assert.equal(started.status, 0, started.stdout + started.stderr)
      socket = parseJson<any>(started).socket
      assert.equal(socket, path.join(tv.root, 'run', 'aivaultd.sock'))
    })

    after(async () => {
      if (!tv) return
      await tv.runAsync(['daemon', 'stop'])
      await killDaemonsUnder(tv.base)
      tv.dispose()
    })

    it('the socket file is 0600 in a 0700 run/ folder', () => {
      assert.ok(fs.statSync(socket).isSocket())
      assert.equal(modeOf(socket).toString(8), '600')
      assert.equal(modeOf(path.dirname(socket)).toString(8), '700')
    })

    it('health: {"id":1,"op":"health"} answers {"id":1,"ok":true,"value":{...}}', async () => {
      await withClient(socket, async (client) => {
        client.write('{"id":1,"op":"health"}\n')
        const reply = await client.next()
        assert.deepEqual(Object.keys(reply).sort(), ['id', 'ok', 'value'])
        assert.equal(reply.id, 1)
        assert.equal(reply.ok, true)
        assert.ok(reply.value !== null && typeof reply.value === 'object' && !Array.isArray(reply.value), JSON.stringify(reply))
        if ('pid' in reply.value) assert.ok(processAlive(reply.value.pid))
        // String ids come back as sent.
        const named = await client.request({id: 'h-2', op: 'health'})
        assert.equal(named.id, 'h-2')
        assert.equal(named.ok, true)
      })
    })

    it('status: a file vault is not locked', async () => {
      await withClient(socket, async (client) => {
        const reply = await client.request({id: 7, op: 'status'})
        assert.equal(reply.ok, true, JSON.stringify(reply))
        assert.equal(reply.id, 7)
        assert.equal(reply.value.locked, false)
      })
    })

    it('an unknown op, a frame without an op and a malformed line get error frames; the connection stays usable', async () => {
      await withClient(socket, async (client) => {
        const unknown = await client.request({id: 2, op: 'make_coffee'})
        assertError(unknown, 2, 'invalid_request')
        assert.ok(ERROR_CODES.includes(unknown.error!.code))

        const noOp = await client.request({id: 3})
        assertError(noOp, 3, 'invalid_request')

        client.write('this is { not json\n')
        const malformed = await client.next()
        assert.equal(malformed.ok, false, JSON.stringify(malformed))
        assert.equal(malformed.error?.code, 'invalid_request', JSON.stringify(malformed))
        assert.ok(malformed.error?.message, JSON.stringify(malformed))

        const after = await client.request({id: 4, op: 'health'})
        assert.equal(after.ok, true, JSON.stringify(after))
        assert.equal(after.id, 4)
      })
    })

    it('a bad envelope is an error frame, not a dropped connection', async () => {
      await withClient(socket, async (client) => {
        const reply = await client.request({id: 5, op: 'execute', envelope: {capability: 'openai/models', request: {method: 'GET', path: '/v1/models', url: 'https://evil.example'}}, context: {}})
        assertError(reply, 5, 'policy_violation')
        const missing = await client.request({id: 6, op: 'execute', envelope: {capability: 'openai/nope', request: {method: 'GET', path: '/v1/x'}}, context: {}})
        assertError(missing, 6, 'capability_not_found')
      })
      assert.equal(up.requests.length, 0)
    })

    it('execute returns the upstream answer; two requests on one connection are told apart by id', async () => {
      up.reset()
      await withClient(socket, async (client) => {
        client.write(
          JSON.stringify({id: 10, op: 'execute', envelope: {...ENVELOPE, request: {method: 'GET', path: '/v1/models/a'}}, context: {}}) + '\n' +
            JSON.stringify({id: 11, op: 'execute', envelope: {...ENVELOPE, request: {method: 'GET', path: '/v1/models/b'}}, context: {}}) + '\n',
        )
        const replies = [await client.next(), await client.next()].sort((a, b) => Number(a.id) - Number(b.id))
        for (const [i, reply] of replies.entries()) {
          assert.equal(reply.ok, true, JSON.stringify(reply))
          assert.equal(reply.id, 10 + i)
          assert.equal(reply.value.status, 200)
          const body = JSON.parse(Buffer.from(reply.value.bodyBase64, 'base64').toString('utf8'))
          assert.equal(body.path, `/v1/models/${'ab'[i]}`)
          // The key reaches the upstream but never the client (the broker redacts it in the echo).
          assert.ok(!JSON.stringify(reply).includes(OPENAI_KEY), JSON.stringify(reply))
          assert.ok(!Buffer.from(reply.value.bodyBase64, 'base64').toString('utf8').includes(OPENAI_KEY))
        }
      })
      assert.deepEqual(up.requests.map((r) => r.pathname).sort(), ['/v1/models/a', '/v1/models/b'])
      assert.ok(up.requests.every((r) => r.headers.authorization === `Bearer ${OPENAI_KEY}`))
    })

    it('execute_stream replies chunk frames (base64) and then end', async () => {
      up.reset()
      await withClient(socket, async (client) => {
        client.send({id: 20, op: 'execute_stream', envelope: ENVELOPE, context: {}})
        const frames: Frame[] = []
        for (;;) {
          const frame = await client.next()
          assert.equal(frame.id, 20)
          assert.equal(frame.ok, true, JSON.stringify(frame))
          frames.push(frame)
          if (frame.value?.type === 'end') break
          assert.ok(frames.length < 1000, 'no end frame')
        }
        const chunks = frames.filter((f) => f.value.type === 'chunk')
        assert.ok(chunks.length >= 1, JSON.stringify(frames))
        const body = JSON.parse(Buffer.concat(chunks.map((f) => Buffer.from(f.value.data, 'base64'))).toString('utf8'))
        assert.equal(body.path, '/v1/models')
        assert.equal(frames[frames.length - 1].value.type, 'end')
      })
      assert.equal(up.last()?.headers.authorization, `Bearer ${OPENAI_KEY}`)
    })
  })

  describe('shared mode (aivaultd --shared)', () => {
    let tv: TempVault
    let daemon: ChildProcess | undefined
    let socket: string
    let shared: string
    let daemonStderr = ''

    before(async () => {
      tv = new TempVault()
      tv.env.AIVAULTD_IDLE_EXIT_MS = '60000'
      // The CLI seals through the daemon (the fixture's default is in-process).
      delete tv.env.AIVAULTD_DISABLE
      const init = tv.run(['init', '--provider', 'passphrase', '--passphrase', PASSPHRASE, '--testing', '--json'])
      assert.equal(init.status, 0, init.stdout + init.stderr)
      socket = path.join(tv.base, 'sd', 'aivaultd.sock')
      shared = path.join(tv.base, 'sd', 'shared', 'aivaultd.sock')
      daemon = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'aivaultd.js'), '--socket', socket, '--shared'], {
        env: {...tv.env, ...resolveEnv(up)},
        stdio: ['ignore', 'ignore', 'pipe'],
      })
      daemon.stderr!.on('data', (d: Buffer) => (daemonStderr += d.toString('utf8')))
      const deadline = Date.now() + 10_000
      for (;;) {
        const ready = fs.existsSync(shared) && (await RawClient.connect(shared).then((c) => (c.close(), true), () => false))
        if (ready) break
        if (daemon.exitCode !== null || Date.now() > deadline) throw new Error(`aivaultd --shared did not start (exit ${daemon.exitCode}): ${daemonStderr}`)
        await new Promise((r) => setTimeout(r, 50))
      }
    })

    after(async () => {
      if (daemon?.pid !== undefined && daemon.exitCode === null) {
        daemon.kill('SIGTERM')
        if (!(await waitForExit(daemon.pid, 3000))) daemon.kill('SIGKILL')
      }
      if (tv) {
        await killDaemonsUnder(tv.base)
        tv.dispose()
      }
    })

    it('the shared socket is 0660 in a 0750 folder; the private one stays 0600 in 0700', () => {
      assert.ok(fs.statSync(shared).isSocket())
      assert.equal(modeOf(shared).toString(8), '660')
      assert.equal(modeOf(path.dirname(shared)).toString(8), '750')
      assert.equal(modeOf(socket).toString(8), '600')
      assert.equal(modeOf(path.dirname(socket)).toString(8), '700')
    })

    it('refuses unlock, lock and seal on the shared socket with policy_violation, and answers health', async () => {
      await withClient(shared, async (client) => {
        const health = await client.request({id: 1, op: 'health'})
        assert.equal(health.ok, true, JSON.stringify(health))
        assertError(await client.request({id: 2, op: 'unlock', passphrase: PASSPHRASE, ttlMs: 60_000}), 2, 'policy_violation')
        assertError(await client.request({id: 3, op: 'lock'}), 3, 'policy_violation')
        assertError(await client.request({id: 4, op: 'seal', secretId: '00000000-0000-4000-8000-000000000000', scope: {type: 'global'}, valueBase64: 'eA=='}), 4, 'policy_violation')
      })
      // The refused unlock did not unlock anything.
      await withClient(socket, async (client) => {
        const status = await client.request({id: 5, op: 'status'})
        assert.equal(status.ok, true, JSON.stringify(status))
        assert.equal(status.value.locked, true)
      })
    })

    it('the private socket accepts unlock, seal (via the CLI) and lock; the shared one then serves execute', async () => {
      await withClient(socket, async (client) => {
        const unlocked = await client.request({id: 1, op: 'unlock', passphrase: PASSPHRASE, ttlMs: 60_000})
        assert.equal(unlocked.ok, true, JSON.stringify(unlocked))
        assert.equal(unlocked.value.locked, false)
      })
      // A CLI process pointed at the private socket seals through it.
      const created = tv.run(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin', '--json'], {input: OPENAI_KEY, env: {AIVAULTD_SOCKET: socket}})
      assert.equal(created.status, 0, created.stdout + created.stderr)

      up.reset()
      await withClient(shared, async (client) => {
        const reply = await client.request({id: 2, op: 'execute', envelope: ENVELOPE, context: {}})
        assert.equal(reply.ok, true, JSON.stringify(reply))
        assert.equal(reply.value.status, 200)
      })
      assert.equal(up.last()?.headers.authorization, `Bearer ${OPENAI_KEY}`)

      await withClient(socket, async (client) => {
        const locked = await client.request({id: 3, op: 'lock'})
        assert.equal(locked.ok, true, JSON.stringify(locked))
      })
      await withClient(shared, async (client) => {
        assertError(await client.request({id: 4, op: 'execute', envelope: ENVELOPE, context: {}}), 4, 'vault_locked')
      })
    })
  })
})

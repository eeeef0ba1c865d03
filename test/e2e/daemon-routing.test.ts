/**
 * End-to-end tests of how `aivault invoke` reaches aivaultd (SPEC §10, §15 "Daemon protocol",
 * "Test overrides"): autostart, AIVAULTD_DISABLE / AIVAULTD_AUTOSTART / AIVAULTD_SOCKET,
 * streaming through the daemon (and a daemon killed mid-stream), many clients at once, and the
 * `daemon status|stop|restart` commands.
 *
 * Without AIVAULTD_DISABLE=1 every invoke runs in aivaultd, and with AIVAULTD_AUTOSTART=0 a
 * missing daemon is an error (never an in-process fallback), so a call made with it that
 * succeeds was served by the daemon already running. A daemon refuses clients whose test
 * overrides differ from its own (issue 12 item 23), so clients carry the daemon's.
 */
import * as assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as path from 'node:path'

import {CLI, TempVault, daemonPidsUnder, expectJsonError, killDaemonsUnder, parseJson, processAlive, waitForExit, type CliResult} from './fixture'
import {UPSTREAM_HOSTNAMES, delay, resolveEnv, sse, startUpstream, type Upstream} from './upstream'

const OPENAI_KEY = 'sk-daemon-routing-e2e-SECRET-0123456789'

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const port = (server.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

interface StreamRun extends CliResult {
  /** Date.now() when stdout first carried an SSE `data:` line, or undefined. */
  firstEventAt?: number
  exitedAt: number
}

describe('e2e aivaultd: routing, streaming, concurrency, daemon commands (SPEC §10, §15)', function () {
  this.timeout(120_000)
  let up: Upstream
  let tv: TempVault
  /** Test overrides pointing at the local upstream. */
  let good: Record<string, string>
  /** The same overrides pointing at a closed port: a broker with these cannot reach the upstream. */
  let dead: Record<string, string>
  /** A client of a daemon started with `good`: the same overrides, and no autostart. */
  let served: Record<string, string>
  const socket = () => path.join(tv.root, 'run', 'aivaultd.sock')
  const altSocket = () => path.join(tv.base, 'alt-run', 'other.sock')

  const invoke = (args: string[], env: Record<string, string>) => tv.runAsync(['invoke', ...args], {env})
  const daemonStatus = async (env: Record<string, string> = {}) => {
    const result = await tv.runAsync(['daemon', 'status', '--json'], {env})
    assert.equal(result.status, 0, result.stdout + result.stderr)
    return parseJson<any>(result)
  }
  /** Start (or replace) the daemon on the default socket with `env` as its environment; returns its pid. */
  const startDaemonWith = async (env: Record<string, string>): Promise<number> => {
    const result = await tv.runAsync(['daemon', 'restart', '--json'], {env})
    assert.equal(result.status, 0, result.stdout + result.stderr)
    const value = parseJson<any>(result)
    assert.ok(Number.isInteger(value.pid), JSON.stringify(value))
    return value.pid
  }

  /** Run the CLI, noting when the first SSE event reaches its stdout; `onFirstEvent` runs then. */
  const streamRun = (args: string[], env: Record<string, string>, onFirstEvent?: () => void): Promise<StreamRun> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, ...args], {env: {...tv.env, ...env}, cwd: tv.base})
      let stdout = ''
      let stderr = ''
      let firstEventAt: number | undefined
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString('utf8')
        if (firstEventAt === undefined && stdout.includes('data: ')) {
          firstEventAt = Date.now()
          onFirstEvent?.()
        }
      })
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')))
      child.on('error', reject)
      child.on('close', (code) => resolve({status: code ?? -1, stdout, stderr, firstEventAt, exitedAt: Date.now()}))
      child.stdin.end()
    })

  before(async () => {
    up = await startUpstream()
    good = resolveEnv(up)
    const port = await closedPort()
    dead = {...good, AIVAULT_DEV_RESOLVE: UPSTREAM_HOSTNAMES.map((h) => `${h}=127.0.0.1:${port}`).join(',')}
    served = {...good, AIVAULTD_AUTOSTART: '0'}
    tv = new TempVault()
    delete tv.env.AIVAULTD_DISABLE
    tv.env.AIVAULTD_IDLE_EXIT_MS = '60000'
    tv.ok(['init', '--testing'])
    tv.createSecret('OPENAI_API_KEY', OPENAI_KEY)
  })

  beforeEach(() => up.reset())

  afterEach(async () => {
    await tv.runAsync(['daemon', 'stop'])
    await tv.runAsync(['daemon', 'stop'], {env: {AIVAULTD_SOCKET: altSocket()}})
    const leftovers = await killDaemonsUnder(tv.base)
    assert.deepEqual(leftovers, [], 'a daemon outlived "aivault daemon stop"')
  })

  after(async () => {
    if (tv) {
      await killDaemonsUnder(tv.base)
      tv.dispose()
    }
    await up?.close()
  })

  describe('routing (SPEC §10)', () => {
    it('AIVAULTD_AUTOSTART=1: invoke starts a daemon, which injects the key, and later invokes reuse it', async () => {
      assert.equal((await daemonStatus()).running, false)
      const result = await invoke(['openai/models', '--json'], {...good, AIVAULTD_AUTOSTART: '1'})
      assert.equal(result.status, 0, result.stdout + result.stderr)
      assert.equal(parseJson<any>(result).response.status, 200)
      assert.equal(up.requests.length, 1)
      assert.equal(up.last()?.headers.authorization, `Bearer ${OPENAI_KEY}`)

      const st = await daemonStatus()
      assert.equal(st.running, true)
      assert.equal(st.socket, socket())
      assert.ok(Number.isInteger(st.pid) && processAlive(st.pid), JSON.stringify(st))
      assert.deepEqual(daemonPidsUnder(tv.base), [st.pid])
      assert.match(fs.readFileSync(`/proc/${st.pid}/cmdline`, 'utf8'), /aivaultd/)

      // Now the daemon serves a CLI that may not start one.
      const again = await invoke(['openai/models', '--json'], served)
      assert.equal(again.status, 0, again.stdout + again.stderr)
      assert.equal(up.requests.length, 2)
      assert.equal((await daemonStatus()).pid, st.pid, 'a second daemon was started')
    })

    it('AIVAULTD_DISABLE=1 runs in-process even while a daemon runs', async () => {
      const pid = await startDaemonWith(dead)
      // Through the daemon (its overrides point at a closed port) the call fails...
      expectJsonError(await invoke(['openai/models', '--json'], dead), 1, 'upstream_unreachable')
      assert.equal(up.requests.length, 0)
      // ...in-process, with this CLI's overrides, it succeeds.
      const result = await invoke(['openai/models', '--json'], {...good, AIVAULTD_DISABLE: '1'})
      assert.equal(result.status, 0, result.stdout + result.stderr)
      assert.equal(parseJson<any>(result).response.status, 200)
      assert.equal(up.last()?.headers.authorization, `Bearer ${OPENAI_KEY}`)
      assert.equal((await daemonStatus()).pid, pid)
    })

    it('AIVAULTD_DISABLE=1 starts no daemon even with AIVAULTD_AUTOSTART=1', async () => {
      const result = await invoke(['openai/models', '--json'], {...good, AIVAULTD_DISABLE: '1', AIVAULTD_AUTOSTART: '1'})
      assert.equal(result.status, 0, result.stdout + result.stderr)
      assert.equal(up.requests.length, 1)
      assert.equal((await daemonStatus()).running, false)
      assert.deepEqual(daemonPidsUnder(tv.base), [])
    })

    it('AIVAULTD_AUTOSTART=0 with no daemon fails naming the socket and starts none', async () => {
      const result = await invoke(['openai/models', '--json'], {...good, AIVAULTD_AUTOSTART: '0'})
      assert.ok(expectJsonError(result, 1, 'vault_unavailable').message.includes(socket()), result.stdout)
      assert.equal(up.requests.length, 0)
      assert.equal(fs.existsSync(socket()), false, 'a socket appeared')
      assert.deepEqual(daemonPidsUnder(tv.base), [])
      const st = await daemonStatus()
      assert.equal(st.running, false)
      assert.equal(st.pid, null)
    })

    it('AIVAULTD_SOCKET points the CLI at another socket', async () => {
      const alt = altSocket()
      const env = {...good, AIVAULTD_AUTOSTART: '1', AIVAULTD_SOCKET: alt}
      const result = await invoke(['openai/models', '--json'], env)
      assert.equal(result.status, 0, result.stdout + result.stderr)
      assert.equal(up.last()?.headers.authorization, `Bearer ${OPENAI_KEY}`)
      assert.ok(fs.statSync(alt).isSocket(), `${alt} is not a socket`)
      assert.equal(fs.existsSync(socket()), false, 'the default socket was used as well')

      const viaAlt = await daemonStatus({AIVAULTD_SOCKET: alt})
      assert.equal(viaAlt.running, true)
      assert.equal(viaAlt.socket, alt)
      assert.deepEqual(daemonPidsUnder(tv.base), [viaAlt.pid])
      const viaDefault = await daemonStatus()
      assert.equal(viaDefault.running, false)
      assert.equal(viaDefault.socket, socket())
      const st = parseJson<any>(await tv.runAsync(['status', '--json'], {env: {AIVAULTD_SOCKET: alt}}))
      assert.deepEqual(st.daemon, {running: true, socket: alt})

      // The daemon on the other socket serves a CLI that may not start one.
      const viaSocket = await invoke(['openai/models', '--json'], {...served, AIVAULTD_SOCKET: alt})
      assert.equal(viaSocket.status, 0, viaSocket.stdout + viaSocket.stderr)
      assert.equal(up.requests.length, 2)

      const stopped = await tv.runAsync(['daemon', 'stop', '--json'], {env: {AIVAULTD_SOCKET: alt}})
      assert.equal(stopped.status, 0, stopped.stdout + stopped.stderr)
      assert.ok(await waitForExit(viaAlt.pid), 'the daemon on the other socket still runs')
    })
  })

  describe('streaming through the daemon (SPEC §9 --stream, §15 execute_stream)', () => {
    const EVENTS = ['{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}', '{"n":5}', '[DONE]']
    const streamArgs = ['invoke', 'openai/chat-completions', '--method', 'POST', '--path', '/v1/chat/completions', '--body', '{"stream":true}', '--stream']

    it('delivers the first event before the upstream has finished', async () => {
      await startDaemonWith(good)
      const handler = up.route('POST', '/v1/chat/completions', sse(EVENTS, {delayMs: 300}))
      const result = await streamRun(streamArgs, served)
      assert.equal(result.status, 0, result.stdout + result.stderr)
      assert.equal(result.stdout, EVENTS.map((e) => `data: ${e}\n\n`).join(''))
      assert.equal(up.last()?.headers.authorization, `Bearer ${OPENAI_KEY}`)
      assert.equal(handler.sentAt.length, EVENTS.length)
      assert.ok(result.firstEventAt !== undefined)
      const last = handler.sentAt[handler.sentAt.length - 1]
      assert.ok(result.firstEventAt < last, `the first event arrived ${result.firstEventAt - last} ms after the upstream's last one: buffered, not streamed`)
    })

    it('a daemon killed mid-stream ends the client with an Error line, and the next invoke starts a fresh daemon', async () => {
      const pid = await startDaemonWith(good)
      up.route('POST', '/v1/chat/completions', sse(Array.from({length: 40}, (_, i) => `{"n":${i}}`), {delayMs: 200}))
      let killedAt = 0
      const result = await streamRun(streamArgs, served, () => {
        killedAt = Date.now()
        process.kill(pid, 'SIGKILL')
      })
      assert.ok(killedAt > 0, `no event arrived before the end:\n${result.stdout}\n${result.stderr}`)
      assert.notEqual(result.status, 0, 'a cut stream exited 0')
      assert.ok(result.exitedAt - killedAt < 5000, `the client took ${result.exitedAt - killedAt} ms to notice`)
      assert.ok(!result.stdout.includes('{"n":39}'), 'the stream was not cut')
      const lines = result.stderr.replace(/\n$/, '').split('\n')
      assert.ok(lines.some((l) => /^Error: \S/.test(l)), `no "Error:" line on stderr:\n${result.stderr}`)
      assert.ok(!/^\s+at .+:\d+:\d+\)?$/m.test(result.stderr), `stack trace on stderr:\n${result.stderr}`)
      assert.ok(lines.every((l) => /^(Error|Hint): /.test(l)), `unexpected stderr lines:\n${result.stderr}`)
      assert.ok(await waitForExit(pid))
      assert.equal((await daemonStatus()).running, false, 'a killed daemon is reported as running')

      up.reset()
      const next = await invoke(['openai/models', '--json'], {...good, AIVAULTD_AUTOSTART: '1'})
      assert.equal(next.status, 0, next.stdout + next.stderr)
      assert.equal(parseJson<any>(next).response.status, 200)
      const st = await daemonStatus()
      assert.equal(st.running, true)
      assert.notEqual(st.pid, pid)
      assert.ok(processAlive(st.pid))
    })
  })

  describe('many clients at once', () => {
    it('8 concurrent invokes through one daemon all succeed with the injected key', async () => {
      const pid = await startDaemonWith(good)
      const results = await Promise.all(Array.from({length: 8}, (_, i) => invoke(['openai/models', '--path', `/v1/models/m${i}`, '--json'], served)))
      for (const [i, result] of results.entries()) {
        assert.equal(result.status, 0, `client ${i}: ${result.stdout}${result.stderr}`)
        const body = parseJson<any>(result)
        assert.equal(body.response.status, 200)
        assert.equal(body.response.json.path, `/v1/models/m${i}`, `client ${i} got another client's answer`)
      }
      assert.deepEqual(up.requests.map((r) => r.pathname).sort(), Array.from({length: 8}, (_, i) => `/v1/models/m${i}`))
      assert.ok(up.requests.every((r) => r.headers.authorization === `Bearer ${OPENAI_KEY}`))
      assert.equal((await daemonStatus()).pid, pid)
      assert.deepEqual(daemonPidsUnder(tv.base), [pid])
    })

    it('8 concurrent invokes that all autostart leave exactly one daemon', async () => {
      assert.deepEqual(daemonPidsUnder(tv.base), [])
      const results = await Promise.all(Array.from({length: 8}, (_, i) => invoke(['openai/models', '--path', `/v1/models/a${i}`, '--json'], {...good, AIVAULTD_AUTOSTART: '1'})))
      for (const [i, result] of results.entries()) assert.equal(result.status, 0, `client ${i}: ${result.stdout}${result.stderr}`)
      assert.equal(up.requests.length, 8)
      const st = await daemonStatus()
      assert.equal(st.running, true)
      // Daemons that lost the race for the socket must exit, not linger unreachable.
      const deadline = Date.now() + 3000
      while (daemonPidsUnder(tv.base).length > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      assert.deepEqual(daemonPidsUnder(tv.base), [st.pid])
    })

    it('a slow request does not hold up a fast one started after it', async () => {
      await startDaemonWith(good)
      up.route('GET', '/v1/models/slow', delay(1500))
      const finished: string[] = []
      const started = Date.now()
      const slow = invoke(['openai/models', '--path', '/v1/models/slow', '--json'], served).then((r) => {
        finished.push('slow')
        return {r, ms: Date.now() - started}
      })
      for (let i = 0; i < 200 && !up.requests.some((r) => r.pathname === '/v1/models/slow'); i++) await new Promise((r) => setTimeout(r, 25))
      assert.ok(up.requests.some((r) => r.pathname === '/v1/models/slow'), 'the slow request never reached the upstream')
      const fast = invoke(['openai/models', '--path', '/v1/models/fast', '--json'], served).then((r) => {
        finished.push('fast')
        return r
      })
      const [s, f] = await Promise.all([slow, fast])
      assert.equal(f.status, 0, f.stdout + f.stderr)
      assert.equal(s.r.status, 0, s.r.stdout + s.r.stderr)
      assert.ok(s.ms >= 1500, `the slow request took only ${s.ms} ms`)
      assert.deepEqual(finished, ['fast', 'slow'])
    })
  })

  describe('daemon status|stop|restart (SPEC §15 daemon status)', () => {
    it('status, restart and stop report {running, socket, pid}; restart gives a new pid; stop ends it', async () => {
      const none = await daemonStatus()
      assert.deepEqual({running: none.running, socket: none.socket, pid: none.pid}, {running: false, socket: socket(), pid: null})

      const first = parseJson<any>(await tv.runAsync(['daemon', 'restart', '--json']))
      assert.equal(first.running, true)
      assert.equal(first.socket, socket())
      assert.ok(Number.isInteger(first.pid) && processAlive(first.pid), JSON.stringify(first))
      const st = await daemonStatus()
      assert.deepEqual({running: st.running, socket: st.socket, pid: st.pid}, {running: true, socket: socket(), pid: first.pid})
      assert.equal(fs.statSync(socket()).mode & 0o777, 0o600)

      const second = parseJson<any>(await tv.runAsync(['daemon', 'restart', '--json']))
      assert.equal(second.running, true)
      assert.equal(second.socket, socket())
      assert.ok(Number.isInteger(second.pid))
      assert.notEqual(second.pid, first.pid)
      assert.ok(await waitForExit(first.pid), `the old daemon ${first.pid} still runs after restart`)
      assert.ok(processAlive(second.pid))
      assert.equal((await daemonStatus()).pid, second.pid)

      const stopped = await tv.runAsync(['daemon', 'stop', '--json'])
      assert.equal(stopped.status, 0, stopped.stdout + stopped.stderr)
      assert.equal(parseJson<any>(stopped).socket, socket())
      assert.ok(await waitForExit(second.pid), 'the daemon still runs after stop')
      assert.equal(fs.existsSync(socket()), false, 'stop left the socket file behind')
      const after = await daemonStatus()
      assert.deepEqual({running: after.running, socket: after.socket, pid: after.pid}, {running: false, socket: socket(), pid: null})

      // Stopping nothing is not an error.
      const again = await tv.runAsync(['daemon', 'stop', '--json'])
      assert.equal(again.status, 0, again.stdout + again.stderr)
    })
  })
})

/**
 * aivaultd hardening (issue 12 items 7, 11, 13, 17, 22, 23, 28, 29; SPEC §2 and §10 hardened):
 * a tampered vault.yaml locks an unlocked daemon, the socket's folder keeps its mode, frames
 * carry non-ASCII bodies intact, one daemon per socket, AIVAULTD_AUTOSTART=0 never falls back
 * silently, differing test overrides are refused, streamed events arrive at once, and autostart
 * runs only the package's own daemon.
 */
import * as assert from 'node:assert/strict'
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'

import {CLI, REPO_ROOT, TempVault, auditEvents, daemonPidsUnder, expectHumanError, expectJsonError, killDaemonsUnder, parseJson, waitForExit, type CliResult} from './fixture'
import {resolveEnv, startUpstream, type Upstream} from './upstream'

const OPENAI_KEY = 'sk-hardening-daemon-SECRET-0123456789abcdef'
const DAEMON_BIN = path.join(REPO_ROOT, 'bin', 'aivaultd.js')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const modeOf = (file: string) => fs.statSync(file).mode & 0o7777

/** Whether something answers on a unix socket. */
function answers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = net.connect(socket)
    conn.once('connect', () => {
      conn.destroy()
      resolve(true)
    })
    conn.once('error', () => resolve(false))
  })
}

/** Poll `check` every 25 ms until it holds; false after `ms`. */
async function eventually(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) return false
    await sleep(25)
  }
  return true
}

/** A vault whose invokes go through aivaultd (the fixture's default is in-process). */
function daemonVault(): TempVault {
  const tv = new TempVault()
  delete tv.env.AIVAULTD_DISABLE
  tv.env.AIVAULTD_IDLE_EXIT_MS = '60000'
  return tv
}

describe('e2e aivaultd hardening (issue 12)', function () {
  this.timeout(180_000)
  let up: Upstream
  let overrides: Record<string, string>
  const vaults: TempVault[] = []
  const track = (tv: TempVault) => (vaults.push(tv), tv)

  before(async () => {
    up = await startUpstream()
    overrides = resolveEnv(up)
  })
  beforeEach(() => up.reset())
  afterEach(async () => {
    for (const tv of vaults.splice(0)) {
      await tv.runAsync(['daemon', 'stop'], {env: overrides})
      await killDaemonsUnder(tv.base)
      tv.dispose()
    }
  })
  after(async () => {
    await up?.close()
  })

  /** A testing vault holding the OpenAI key, invoking through the daemon. */
  const testingVault = () => {
    const tv = track(daemonVault())
    tv.ok(['init', '--testing'])
    tv.createSecret('OPENAI_API_KEY', OPENAI_KEY)
    return tv
  }

  describe('item 7: a tampered vault.yaml locks a passphrase vault unlocked in aivaultd (SPEC §2)', () => {
    it('flipping testing: true fails every call with vault_tampered, locks the vault and sends nothing', async () => {
      const tv = track(daemonVault())
      const passFile = path.join(tv.base, 'pass')
      fs.writeFileSync(passFile, 'hardening daemon passphrase\n', {mode: 0o600})
      // A real (non-testing) vault, unlocked in a daemon that happens to carry test overrides.
      assert.equal(tv.run(['init', '--provider', 'passphrase', '--passphrase-file', passFile, '--json']).status, 0)
      const unlocked = await tv.runAsync(['unlock', '--passphrase-file', passFile, '--json'], {env: overrides})
      assert.equal(unlocked.status, 0, unlocked.stdout + unlocked.stderr)
      assert.equal(tv.run(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin', '--json'], {input: OPENAI_KEY}).status, 0)
      const invoke = () => tv.runAsync(['invoke', 'openai/models', '--json'], {env: overrides})
      // Untampered, the overrides are refused: a real vault's traffic is never redirected.
      expectJsonError(await invoke(), 1, 'invalid_request')

      const vaultFile = path.join(tv.root, 'vault.yaml')
      const original = fs.readFileSync(vaultFile, 'utf8')
      assert.match(original, /^testing: false$/m)
      fs.writeFileSync(vaultFile, original.replace(/^testing: false$/m, 'testing: true'))
      const first = expectJsonError(await invoke(), 1, 'vault_tampered')
      assert.match(first.message, /vault\.yaml/)
      expectJsonError(await invoke(), 1, 'vault_tampered')
      const thin = await tv.runAsync(['invoke', 'openai/models'], {env: overrides})
      assert.match(expectHumanError(thin, 1), /vault\.yaml/)
      assert.equal(up.requests.length, 0, 'the key went to the redirected upstream')
      assert.equal(parseJson<any>(await tv.runAsync(['daemon', 'status', '--json'])).locked, true)
      assert.ok(auditEvents(tv).some((e) => e.kind === 'vault.lock' && e.reason === 'vault_tampered'), 'no vault.lock event for the tamper')

      // Restored, the vault stays locked until it is unlocked again.
      fs.writeFileSync(vaultFile, original)
      assert.equal(parseJson<any>(await tv.runAsync(['daemon', 'status', '--json'])).locked, true)
      expectJsonError(tv.run(['secrets', 'create', '--name', 'OTHER_KEY', '--value-stdin', '--json'], {input: 'other-value-123'}), 1, 'vault_locked')
      assert.equal(up.requests.length, 0)
    })

    it('a rewrite or an edit the MAC does not cover keeps serving; a changed KDF setting locks', async () => {
      const tv = track(daemonVault())
      const passFile = path.join(tv.base, 'pass')
      fs.writeFileSync(passFile, 'hardening daemon passphrase 2\n', {mode: 0o600})
      assert.equal(tv.run(['init', '--provider', 'passphrase', '--passphrase-file', passFile, '--testing', '--json']).status, 0)
      assert.equal((await tv.runAsync(['unlock', '--passphrase-file', passFile, '--json'], {env: overrides})).status, 0)
      assert.equal(tv.run(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin', '--json'], {input: OPENAI_KEY}).status, 0)
      const invoke = () => tv.runAsync(['invoke', 'openai/models', '--json'], {env: overrides})
      const vaultFile = path.join(tv.root, 'vault.yaml')
      const original = fs.readFileSync(vaultFile, 'utf8')

      // Rewritten with the same bytes (a git checkout), then with a field the MAC does not
      // cover: verified again each time, and still valid.
      fs.writeFileSync(`${vaultFile}.new`, original)
      fs.renameSync(`${vaultFile}.new`, vaultFile)
      const same = await invoke()
      assert.equal(same.status, 0, same.stdout + same.stderr)
      const uncovered = original.replace(/^createdAt: .*$/m, 'createdAt: "2001-02-03T04:05:06.000Z"')
      assert.notEqual(uncovered, original)
      fs.writeFileSync(vaultFile, uncovered)
      const ok = await invoke()
      assert.equal(ok.status, 0, ok.stdout + ok.stderr)
      assert.equal(up.last()?.headers.authorization, `Bearer ${OPENAI_KEY}`)

      const tampered = original.replace(/opsLimit: (\d+)/, (_, n) => `opsLimit: ${Number(n) + 1}`)
      assert.notEqual(tampered, original)
      fs.writeFileSync(vaultFile, tampered)
      const requests = up.requests.length
      expectJsonError(await invoke(), 1, 'vault_tampered')
      assert.equal(up.requests.length, requests)
    })
  })

  describe('item 11: the socket folder keeps its mode (SPEC §10)', () => {
    it('a 1777 folder stays 1777; folders the daemon creates are 0700', async () => {
      const tv = testingVault()
      const open = path.join(tv.base, 'open')
      fs.mkdirSync(open)
      fs.chmodSync(open, 0o1777)
      const socket = path.join(open, 'aivaultd.sock')
      const started = await tv.runAsync(['daemon', 'restart', '--json'], {env: {...overrides, AIVAULTD_SOCKET: socket}})
      assert.equal(started.status, 0, started.stdout + started.stderr)
      assert.equal(modeOf(open).toString(8), '1777')
      assert.equal(modeOf(socket).toString(8), '600')
      assert.ok(fs.existsSync(path.join(open, 'aivaultd.pid')))
      await tv.runAsync(['daemon', 'stop'], {env: {AIVAULTD_SOCKET: socket}})

      const fresh = path.join(tv.base, 'made', 'here', 'aivaultd.sock')
      const again = await tv.runAsync(['daemon', 'restart', '--json'], {env: {...overrides, AIVAULTD_SOCKET: fresh}})
      assert.equal(again.status, 0, again.stdout + again.stderr)
      assert.equal(modeOf(path.dirname(fresh)).toString(8), '700')
      assert.equal(modeOf(path.join(tv.base, 'made')).toString(8), '700')
      await tv.runAsync(['daemon', 'stop'], {env: {AIVAULTD_SOCKET: fresh}})
    })
  })

  describe('item 13: non-ASCII request bodies cross the socket intact', () => {
    // One- to four-byte UTF-8 characters, so every chunk boundary of the frame can split one.
    const unit = 'aé€😀'

    it('a 2 MiB multi-byte body text (--request-file, full client) reaches the upstream byte for byte', async () => {
      const tv = testingVault()
      const body = unit.repeat(Math.ceil((2 << 20) / Buffer.byteLength(unit)))
      const file = path.join(tv.base, 'request.json')
      fs.writeFileSync(file, JSON.stringify({method: 'POST', path: '/v1/chat/completions', body}))
      const result = await tv.runAsync(['invoke', 'openai/chat-completions', '--request-file', file, '--json'],
        {env: {...overrides, AIVAULTD_AUTOSTART: '1'}})
      assert.equal(result.status, 0, result.stdout.slice(0, 500) + result.stderr)
      assert.equal(daemonPidsUnder(tv.base).length, 1, 'the call did not go through aivaultd')
      const received = up.last()!.body
      assert.equal(received.length, Buffer.byteLength(body))
      assert.ok(received.equals(Buffer.from(body)), 'the body changed on its way through aivaultd')
    })

    it('a 120 KiB multi-byte --body through a running daemon (thin client) arrives intact', async () => {
      const tv = testingVault()
      assert.equal((await tv.runAsync(['daemon', 'restart'], {env: overrides})).status, 0)
      const body = unit.repeat(12_000)
      const result = await tv.runAsync(['invoke', 'openai/chat-completions', '--method', 'POST', '--path', '/v1/chat/completions', '--body', body], {env: overrides})
      assert.equal(result.status, 0, result.stderr)
      assert.ok(up.last()!.body.equals(Buffer.from(body)), 'the body changed on its way through aivaultd')
    })
  })

  describe('item 17: one daemon per socket, even after a stale socket file', () => {
    it('daemons started at once on a stale socket, three rounds: exactly one serves, the others exit; daemon stop leaves none', async () => {
      const tv = testingVault()
      const socket = path.join(tv.root, 'run', 'aivaultd.sock')
      const env = {...tv.env, ...overrides}
      /** SIGKILL a daemon, leaving its socket file behind. */
      const killHard = async (child: ChildProcess) => {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGKILL')
        await exited
        assert.ok(fs.lstatSync(socket).isSocket(), 'no stale socket file left behind')
        assert.equal(await answers(socket), false)
      }
      const first = spawn(process.execPath, [DAEMON_BIN, '--socket', socket], {env, stdio: 'ignore'})
      assert.ok(await eventually(() => answers(socket)), 'the first daemon did not start')
      await killHard(first)

      for (let round = 1; round <= 3; round++) {
        const exits = new Map<number, {code: number | null; stderr: string}>()
        const children: ChildProcess[] = Array.from({length: 6}, () => {
          const child = spawn(process.execPath, [DAEMON_BIN, '--socket', socket], {env, stdio: ['ignore', 'ignore', 'pipe']})
          let stderr = ''
          child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')))
          child.on('exit', (code) => exits.set(child.pid!, {code, stderr}))
          return child
        })
        const settled = await eventually(() => exits.size === children.length - 1, 15_000)
        assert.ok(settled, `round ${round}: ${children.length - exits.size} daemons still run`)
        const winner = children.find((c) => !exits.has(c.pid!))!
        assert.deepEqual(daemonPidsUnder(tv.base), [winner.pid], `round ${round}`)
        for (const {code, stderr} of exits.values()) {
          assert.equal(code, 1, stderr)
          assert.match(stderr, /^Error: an aivaultd already serves .*\nHint: /)
        }
        const status = parseJson<any>(await tv.runAsync(['daemon', 'status', '--json']))
        assert.equal(status.pid, winner.pid, `round ${round}: the socket is served by another daemon`)
        if (round < 3) {
          await killHard(winner)
          continue
        }
        assert.equal((await tv.runAsync(['daemon', 'stop'])).status, 0)
        assert.ok(await waitForExit(winner.pid!), 'the serving daemon outlived daemon stop')
      }
      assert.deepEqual(daemonPidsUnder(tv.base), [])
      assert.deepEqual(fs.readdirSync(path.join(tv.root, 'run')).filter((f) => f.startsWith('aivaultd')), [])
    })
  })

  describe('item 22: AIVAULTD_AUTOSTART=0 and AIVAULTD_SOCKET_MODE (SPEC §10)', () => {
    it('AIVAULTD_AUTOSTART=0 with no daemon fails naming the socket, starts none and sends nothing', async () => {
      const tv = testingVault()
      const socket = path.join(tv.root, 'run', 'aivaultd.sock')
      const env = {...overrides, AIVAULTD_AUTOSTART: '0'}
      const human = await tv.runAsync(['invoke', 'openai/models'], {env})
      const message = expectHumanError(human, 1)
      assert.ok(message.includes(socket), message)
      assert.match(human.stderr, /Hint: .*AIVAULTD_DISABLE=1/)
      expectJsonError(await tv.runAsync(['invoke', 'openai/models', '--json'], {env}), 1, 'vault_unavailable')
      assert.equal(up.requests.length, 0)
      assert.deepEqual(daemonPidsUnder(tv.base), [])
      // With a daemon running, AIVAULTD_AUTOSTART=0 uses it.
      assert.equal((await tv.runAsync(['daemon', 'restart'], {env: overrides})).status, 0)
      const served = await tv.runAsync(['invoke', 'openai/models', '--json'], {env})
      assert.equal(served.status, 0, served.stdout + served.stderr)
      assert.equal(up.last()?.headers.authorization, `Bearer ${OPENAI_KEY}`)
    })

    it('AIVAULTD_SOCKET_MODE=660 gives the socket that mode; a malformed mode is a clear error', async () => {
      const tv = testingVault()
      const socket = path.join(tv.root, 'run', 'aivaultd.sock')
      const started = await tv.runAsync(['daemon', 'restart', '--json'], {env: {...overrides, AIVAULTD_SOCKET_MODE: '660'}})
      assert.equal(started.status, 0, started.stdout + started.stderr)
      assert.equal(modeOf(socket).toString(8), '660')
      await tv.runAsync(['daemon', 'stop'])
      for (const bad of ['rw', '999', '0400', '17777']) {
        const result = await tv.runAsync(['invoke', 'openai/models'], {env: {...overrides, AIVAULTD_SOCKET_MODE: bad}})
        assert.match(expectHumanError(result, 1), /AIVAULTD_SOCKET_MODE/)
        const direct = spawnSync(process.execPath, [DAEMON_BIN, '--socket', socket], {env: {...tv.env, AIVAULTD_SOCKET_MODE: bad}, encoding: 'utf8', timeout: 20_000})
        assert.equal(direct.status, 1)
        assert.match(direct.stderr, /^Error: AIVAULTD_SOCKET_MODE/)
      }
      assert.deepEqual(daemonPidsUnder(tv.base), [])
    })
  })

  describe('item 23: a daemon never silently serves other test overrides (SPEC §10, §14)', () => {
    const expectRestartHint = (result: CliResult, variable: string) => {
      const message = expectHumanError(result, 1)
      assert.ok(message.includes(variable), message)
      assert.match(result.stderr, /Hint: .*aivault daemon restart/)
    }

    it('a daemon started without overrides refuses a client that sets them (thin and full client), and the reverse', async () => {
      const tv = testingVault()
      assert.equal((await tv.runAsync(['daemon', 'restart'])).status, 0)
      expectRestartHint(await tv.runAsync(['invoke', 'openai/models'], {env: overrides}), 'AIVAULT_DEV_RESOLVE')
      expectJsonError(await tv.runAsync(['invoke', 'openai/models', '--json'], {env: overrides}), 1, 'conflict')
      assert.equal(up.requests.length, 0)

      assert.equal((await tv.runAsync(['daemon', 'restart'], {env: overrides})).status, 0)
      expectRestartHint(await tv.runAsync(['invoke', 'openai/models']), 'AIVAULT_DEV_RESOLVE')
      expectJsonError(await tv.runAsync(['invoke', 'openai/models', '--json']), 1, 'conflict')
      const changed = {...overrides, AIVAULT_DEV_ALLOW_NON_DEFAULT_PORTS: ''}
      expectRestartHint(await tv.runAsync(['invoke', 'openai/models'], {env: changed}), 'AIVAULT_DEV_ALLOW_NON_DEFAULT_PORTS')
      assert.equal(up.requests.length, 0)

      // The same overrides are served (thin and full client).
      assert.equal((await tv.runAsync(['invoke', 'openai/models'], {env: overrides})).status, 0)
      assert.equal((await tv.runAsync(['invoke', 'openai/models', '--json'], {env: overrides})).status, 0)
      assert.equal(up.requests.length, 2)
    })

    it('in a vault without testing: true, overrides sent to the daemon are invalid_request, as in-process', async () => {
      const tv = track(daemonVault())
      tv.ok(['init'])
      tv.createSecret('OPENAI_API_KEY', OPENAI_KEY)
      assert.equal((await tv.runAsync(['daemon', 'restart'])).status, 0)
      const thin = await tv.runAsync(['invoke', 'openai/models'], {env: {AIVAULT_DEV_RESOLVE: overrides.AIVAULT_DEV_RESOLVE}})
      assert.match(expectHumanError(thin, 1), /AIVAULT_DEV_RESOLVE is only honoured in a vault created with "aivault init --testing"/)
      expectJsonError(await tv.runAsync(['invoke', 'openai/models', '--json'], {env: {AIVAULT_DEV_RESOLVE: overrides.AIVAULT_DEV_RESOLVE}}), 1, 'invalid_request')
      const inProcess = await tv.runAsync(['invoke', 'openai/models', '--json'], {env: {AIVAULT_DEV_RESOLVE: overrides.AIVAULT_DEV_RESOLVE, AIVAULTD_DISABLE: '1'}})
      expectJsonError(inProcess, 1, 'invalid_request')
    })
  })

  describe('item 28: --stream delivers each event as it arrives, on every path', () => {
    /**
     * The upstream sends one event, then waits until the test has seen it on the CLI's stdout
     * (at most 8 s) before sending the second. Returns whether stdout showed the first event
     * while the upstream was still waiting.
     */
    async function firstEventWhileWaiting(tv: TempVault, env: Record<string, string>): Promise<{early: boolean; stdout: string; stderr: string}> {
      let seen!: () => void
      const sawFirst = new Promise<void>((resolve) => (seen = resolve))
      let early = false
      up.route('POST', '/v1/chat/completions', async (_req, res) => {
        res.writeHead(200, {'content-type': 'text/event-stream'})
        res.write('data: {"n":1}\n\n')
        early = await Promise.race([sawFirst.then(() => true), sleep(8000).then(() => false)])
        res.end('data: {"n":2}\n\n')
      })
      const child = spawn(process.execPath, [CLI, 'invoke', 'openai/chat-completions', '--method', 'POST', '--path', '/v1/chat/completions', '--body', '{}', '--stream'],
        {env: {...tv.env, ...env}, cwd: tv.base})
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString('utf8')
        if (stdout.includes('data: {"n":1}\n\n')) seen()
      })
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')))
      await new Promise((resolve) => child.on('close', resolve))
      return {early, stdout, stderr}
    }

    for (const [name, setup] of [
      ['in-process', async (_tv: TempVault) => ({...overrides, AIVAULTD_DISABLE: '1'})],
      ['full client autostarting aivaultd', async (_tv: TempVault) => ({...overrides, AIVAULTD_AUTOSTART: '1'})],
      ['thin client to a running aivaultd', async (tv: TempVault) => {
        assert.equal((await tv.runAsync(['daemon', 'restart'], {env: overrides})).status, 0)
        return overrides
      }],
    ] as const) {
      it(name, async () => {
        const tv = testingVault()
        const result = await firstEventWhileWaiting(tv, await setup(tv))
        assert.equal(result.stdout, 'data: {"n":1}\n\ndata: {"n":2}\n\n', result.stderr)
        assert.ok(result.early, 'the first event reached stdout only after the second was sent')
      })
    }
  })

  describe('item 29: autostart runs only the package\'s own bin/aivaultd.js', () => {
    let scratch: string
    afterEach(() => fs.rmSync(scratch, {recursive: true, force: true}))

    it('a planted <install>/../bin/aivaultd.js is never run; the real daemon starts', async () => {
      scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-planted-'))
      const install = path.join(scratch, 'install')
      fs.mkdirSync(install)
      for (const entry of ['bin', 'dist', 'registry', 'package.json', 'oclif.manifest.json']) fs.cpSync(path.join(REPO_ROOT, entry), path.join(install, entry), {recursive: true})
      fs.symlinkSync(fs.realpathSync(path.join(REPO_ROOT, 'node_modules')), path.join(install, 'node_modules'))
      const marker = path.join(scratch, 'planted-ran')
      fs.mkdirSync(path.join(scratch, 'bin'))
      fs.writeFileSync(path.join(scratch, 'bin', 'aivaultd.js'), `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran')\n`)

      const tv = testingVault()
      // Asynchronously: the upstream runs in this process.
      const result = await new Promise<CliResult>((resolve) => {
        const child = spawn(process.execPath, [path.join(install, 'bin', 'run.js'), 'invoke', 'openai/models', '--json'], {env: {...tv.env, ...overrides, AIVAULTD_AUTOSTART: '1'}, cwd: tv.base})
        let stdout = ''
        let stderr = ''
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')))
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')))
        child.on('close', (status) => resolve({status: status ?? -1, stdout, stderr}))
      })
      assert.equal(fs.existsSync(marker), false, 'the planted file ran')
      assert.equal(result.status, 0, result.stdout + result.stderr)
      assert.equal(up.last()?.headers.authorization, `Bearer ${OPENAI_KEY}`)
      const pids = daemonPidsUnder(tv.base)
      assert.equal(pids.length, 1)
      const args = fs.readFileSync(`/proc/${pids[0]}/cmdline`, 'utf8').split('\0')
      assert.ok(args.includes(path.join(install, 'bin', 'aivaultd.js')), args.join(' '))
    })
  })
})

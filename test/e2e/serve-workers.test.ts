/**
 * `aivault serve --workers N` as an operator relies on it: a port it cannot have is a clear
 * error (exit 1, never a hang), a worker that dies while serving is replaced, and a worker that
 * keeps dying stops serve with exit code 1 instead of restarting forever. Linux: the workers
 * are found in /proc.
 */
import {spawn} from 'node:child_process'
import * as assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as net from 'node:net'
import {setTimeout as sleep} from 'node:timers/promises'

import {CLI, TempVault, type CliResult} from './fixture'
import {mint, request, startServe, type Minted} from './serve-helpers'
import {json, resolveEnv, startUpstream, type Upstream} from './upstream'

function workersOf(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  for (const started = Date.now(); !check(); await sleep(50)) {
    if (Date.now() - started > ms) assert.fail(`timed out waiting for ${what}`)
  }
}

describe('e2e serve --workers: a port in use, workers that die', function () {
  this.timeout(120_000)
  let up: Upstream
  let tv: TempVault
  let env: Record<string, string>
  let token: Minted

  before(async () => {
    const children = `/proc/${process.pid}/task/${process.pid}/children`
    if (!fs.existsSync(children)) assert.fail(`${children} is missing: these tests find serve's workers there (Linux with CONFIG_PROC_CHILDREN)`)
    up = await startUpstream()
    env = resolveEnv(up)
    tv = new TempVault()
    tv.ok(['init', '--testing'])
    tv.createSecret('OPENAI_API_KEY', 'sk-serve-workers-OPENAI-SECRET-0123456789')
    token = await mint(tv, ['openai/models'])
    up.route('GET', '/v1/models', json(200, {object: 'list', data: []}), {host: 'api.openai.com'})
  })

  after(async () => {
    await up?.close()
    tv?.dispose()
  })

  const call = async (base: string) => (await request(`${base}/v/openai/v1/models`, {headers: {authorization: `Bearer ${token.token}`}})).status

  for (const workers of ['1', '2']) {
    it(`a port already in use: exit 1 naming the address and the fix (--workers ${workers}), not a hang`, async () => {
      const busy = net.createServer()
      await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
      const {port} = busy.address() as net.AddressInfo
      try {
        const result = await new Promise<CliResult>((resolve) => {
          const child = spawn(process.execPath, [CLI, 'serve', '--port', String(port), '--workers', workers], {env: {...tv.env, ...env}, cwd: tv.base})
          let stdout = ''
          let stderr = ''
          child.stdout.on('data', (d) => (stdout += d))
          child.stderr.on('data', (d) => (stderr += d))
          const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
          child.on('exit', (status) => {
            clearTimeout(timer)
            resolve({status: status ?? -1, stdout, stderr})
          })
        })
        assert.equal(result.status, 1, `exit status; stderr: ${result.stderr}`)
        assert.match(result.stderr, new RegExp(`127\\.0\\.0\\.1:${port} is already in use`))
        assert.match(result.stderr, /pick another --port/)
        assert.ok(!/listening on/.test(result.stderr), result.stderr)
      } finally {
        busy.close()
      }
    })
  }

  it('a worker killed while serving is replaced, and calls keep working', async () => {
    const served = await startServe(tv, env, ['--workers', '2'])
    try {
      const pid = served.proc.pid as number
      await until('two workers', () => workersOf(pid).length === 2)
      const [victim, survivor] = workersOf(pid)
      process.kill(victim, 'SIGKILL')
      await until('a replacement worker', () => workersOf(pid).length === 2 && !workersOf(pid).includes(victim))
      assert.ok(workersOf(pid).includes(survivor))
      assert.match(served.output(), new RegExp(`worker ${victim} exited \\(signal SIGKILL\\); starting another`))
      for (let i = 0; i < 6; i++) assert.equal(await call(served.base), 200)
    } finally {
      await served.stop()
    }
  })

  it('a worker that keeps dying stops serve with exit code 1 after five restarts in a minute', async () => {
    const served = await startServe(tv, env, ['--workers', '2'])
    const exited = new Promise<number | null>((resolve) => served.proc.once('exit', (code) => resolve(code)))
    try {
      const pid = served.proc.pid as number
      for (let kill = 0; kill < 6; kill++) {
        await until(`worker ${kill + 1}`, () => workersOf(pid).length > 0 || served.proc.exitCode !== null)
        if (served.proc.exitCode !== null) break
        const victim = workersOf(pid)[0]
        process.kill(victim, 'SIGKILL')
        // Until serve has reaped it (a dead child stays listed until then): the next kill is another worker.
        await until(`worker ${victim} reaped`, () => !workersOf(pid).includes(victim) || served.proc.exitCode !== null)
      }
      assert.equal(await exited, 1, served.output())
      assert.match(served.output(), /the 6th in a minute; stopping/)
    } finally {
      await served.stop()
    }
  })
})

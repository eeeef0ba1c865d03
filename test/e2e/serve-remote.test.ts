/**
 * `aivault serve` refuses clients that are not on loopback unless started with --allow-remote
 * (SPEC §10): the built CLI with the machine's real non-loopback interface (required), and
 * the server in-process with a socket that claims a remote address.
 */
import {spawn} from 'node:child_process'
import * as assert from 'node:assert/strict'
import {setTimeout as sleep} from 'node:timers/promises'
import type * as net from 'node:net'
import * as os from 'node:os'

import {brokerDepsFromEnv} from '../../src/broker/deps'
import {createBrokerServer} from '../../src/server/http-server'
import {CLI, TempVault, auditEvents, expectHumanError, type CliResult} from './fixture'
import {assertProblem, mint, request, startServe, type Minted, type Reply, type Served} from './serve-helpers'
import {json, resolveEnv, startUpstream, type Upstream} from './upstream'

const OPENAI_KEY = 'sk-serve-remote-OPENAI-SECRET-0123456789'

describe('e2e serve: loopback only unless --allow-remote (SPEC §10)', function () {
  this.timeout(120_000)
  let up: Upstream
  let tv: TempVault
  let env: Record<string, string>
  let token: Minted
  const running: Served[] = []
  const nonLoopback = Object.values(os.networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address

  before(async () => {
    up = await startUpstream()
    env = resolveEnv(up)
    tv = new TempVault()
    tv.ok(['init', '--testing'])
    tv.createSecret('OPENAI_API_KEY', OPENAI_KEY)
    token = await mint(tv, ['openai/models'])
    up.route('GET', '/v1/models', json(200, {object: 'list', data: [{id: 'gpt-remote', object: 'model', created: 0, owned_by: 'e2e'}]}), {host: 'api.openai.com'})
  })

  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop()))
  })

  after(async () => {
    await up?.close()
    tv?.dispose()
  })

  const serveWith = async (extra: string[]) => {
    const s = await startServe(tv, env, extra)
    running.push(s)
    return s
  }

  it('--host 0.0.0.0 without --allow-remote is a usage error (exit 2) and never listens', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--host', '0.0.0.0', '--port', '0'], {env: {...tv.env, ...env}, cwd: tv.base})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const result = await new Promise<CliResult>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
      child.on('close', (code, signal) => {
        clearTimeout(timer)
        resolve({status: code ?? (signal ? -2 : -1), stdout, stderr})
      })
    })
    assert.notEqual(result.status, -2, `serve --host 0.0.0.0 kept running (killed after 20 s): ${stderr}`)
    expectHumanError(result, 2)
    assert.doesNotMatch(stderr, /listening/)
  })

  it('--host 0.0.0.0 --allow-remote starts, and loopback clients still work', async () => {
    const s = await serveWith(['--host', '0.0.0.0', '--allow-remote'])
    assert.equal(s.host, '0.0.0.0')
    const health = await request(`${s.base}/aivault/health`)
    assert.equal(health.status, 200)
    const before = up.requests.length
    const reply = await request(`${s.base}/v/openai/v1/models`, {headers: {authorization: `Bearer ${token.token}`}})
    assert.equal(reply.status, 200, reply.body)
    assert.equal(JSON.parse(reply.body).data[0].id, 'gpt-remote')
    assert.equal(up.requests.length, before + 1)
    assert.equal(up.last()?.headers.authorization, `Bearer ${OPENAI_KEY}`)
  })

  it('a client from a non-loopback address is refused by the default serve and accepted with --allow-remote', async () => {
    // Never skipped: a machine that runs the suite (CI included) must have one, or this fails.
    if (!nonLoopback) assert.fail('this machine has no non-loopback IPv4 address to connect from; the suite needs one (any network interface besides lo)')
    const local = await serveWith([])
    const before = up.requests.length
    // Connect to 127.0.0.1 from the machine's non-loopback address: the server sees that address.
    const health = await request(`${local.base}/aivault/health`, {localAddress: nonLoopback})
    assertProblem(health, 403, 'policy_violation', `health from ${nonLoopback}`)
    const call = await request(`${local.base}/v/openai/v1/models`, {headers: {authorization: `Bearer ${token.token}`}, localAddress: nonLoopback})
    assertProblem(call, 403, 'policy_violation', `passthrough from ${nonLoopback}`)
    assert.equal(up.requests.length, before, 'a refused remote client reached the upstream')
    // The same client from loopback works on the same server.
    assert.equal((await request(`${local.base}/aivault/health`)).status, 200)

    const open = await serveWith(['--host', '0.0.0.0', '--allow-remote'])
    const remote = await request(`http://${nonLoopback}:${open.port}/v/openai/v1/models`, {headers: {authorization: `Bearer ${token.token}`}, localAddress: nonLoopback})
    assert.equal(remote.status, 200, remote.body)
    assert.equal(JSON.parse(remote.body).data[0].id, 'gpt-remote')
    // The audit records the remote client's address.
    let seen = false
    for (let i = 0; i < 30 && !seen; i++) {
      seen = auditEvents(tv).some((e) => e.kind === 'capability.invoke' && e.clientIp === nonLoopback)
      if (!seen) await sleep(100)
    }
    assert.ok(seen, `no capability.invoke event with clientIp ${nonLoopback}`)
  })

  it('createBrokerServer in-process: a client whose socket says 10.1.2.3 is refused unless allowRemote', async () => {
    // Works on machines without a non-loopback interface: the server's socket is told the peer is 10.1.2.3.
    const results: Record<string, Reply> = {}
    for (const allowRemote of [false, true]) {
      const server = createBrokerServer(brokerDepsFromEnv({...tv.env, ...env}), {host: '127.0.0.1', port: 0, allowRemote})
      server.prependListener('connection', (socket: net.Socket) => Object.defineProperty(socket, 'remoteAddress', {value: '10.1.2.3', configurable: true}))
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
      try {
        const {port} = server.address() as net.AddressInfo
        results[String(allowRemote)] = await request(`http://127.0.0.1:${port}/aivault/health`)
      } finally {
        server.closeAllConnections()
        await new Promise<void>((resolve) => server.close(() => resolve()))
      }
    }
    assertProblem(results.false, 403, 'policy_violation', 'remote client, allowRemote false')
    assert.equal(results.true.status, 200, `remote client, allowRemote true: ${results.true.body}`)
  })
})

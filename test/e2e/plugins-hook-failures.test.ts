/**
 * Issue 14 part 2: hooks that misbehave fail only their own invocation. A provider hook that
 * hangs fails within the envelope's timeout, a before-invoke hook that hangs within
 * AIVAULT_PLUGIN_HOOK_TIMEOUT_MS, and aivaultd and serve keep serving afterwards; a
 * before-invoke hook that sets `authorization` is refused as a policy violation.
 */
import * as assert from 'node:assert/strict'

import {TempVault, daemonPidsUnder} from './fixture'
import {copyFixture, fixture, link, pluginVault, startDaemon, stopDaemons} from './plugins-helpers'
import {type Call, type Outcome, leakedSpellings, viaCli, viaFrames, viaLibrary, viaServe} from './response-entry-points'
import {mint, startServe, type Served} from './serve-helpers'
import {resolveEnv, startUpstream, type Upstream} from './upstream'

const OPENAI = 'sk-plugins-hooks-e2e-SECRET-0123456789'
const HOOKED = 'hooked-failures-e2e/SECRET+token=0123456789'
const HOOK_TIMEOUT_MS = 700
const ENVELOPE_TIMEOUT_MS = 1500
/** Far below every default (10 s for hooks, minutes for an envelope): finishing sooner proves the configured limit applied. */
const PROMPTLY_MS = 8000

interface Timed {
  where: string
  outcome: Outcome
  ms: number
}

describe('e2e plugins: hooks that hang or overreach (issue 14)', function () {
  this.timeout(300_000)
  let up: Upstream
  let env: Record<string, string>

  before(async () => {
    up = await startUpstream()
    env = resolveEnv(up)
  })

  after(async () => {
    await up?.close()
  })

  /** Start aivaultd and serve for `tv` and mint a token for `capabilities`. */
  async function entryPoints(tv: TempVault, capabilities: string[]): Promise<{socket: string; served: Served; token: string; pid: number}> {
    const socket = await startDaemon(tv, env)
    const [pid] = daemonPidsUnder(tv.base)
    const served = await startServe(tv, env)
    const token = (await mint(tv, capabilities)).token
    return {socket, served, token, pid}
  }

  /** The call through the library, the CLI (in-process and aivaultd), raw frames and serve, each timed. */
  async function everywhere(tv: TempVault, points: {socket: string; served: Served; token: string}, call: Call): Promise<Timed[]> {
    const timed = async (where: string, run: () => Promise<Outcome>): Promise<Timed> => {
      const started = Date.now()
      const outcome = await run()
      return {where, outcome, ms: Date.now() - started}
    }
    // Concurrently: the hangs overlap, so a stuck call shows as a slow one, not as a serial sum.
    return Promise.all([
      timed('library', () => viaLibrary({...tv.env, ...env}, call)),
      timed('cli in-process', () => viaCli(tv, env, call, 'in-process')),
      timed('cli via aivaultd', () => viaCli(tv, {...env, AIVAULTD_AUTOSTART: '0'}, call, 'daemon')),
      timed('aivaultd execute', () => viaFrames(points.socket, {...call, stream: false})),
      timed('aivaultd execute_stream', () => viaFrames(points.socket, {...call, stream: true})),
      timed('serve envelope', () => viaServe(points.served, points.token, call)),
    ])
  }

  describe('hanging hooks', () => {
    let tv: TempVault
    let points: Awaited<ReturnType<typeof entryPoints>>

    before(async () => {
      tv = pluginVault()
      tv.env.AIVAULT_PLUGIN_HOOK_TIMEOUT_MS = String(HOOK_TIMEOUT_MS)
      tv.createSecret('OPENAI_API_KEY', OPENAI)
      link(tv, copyFixture(tv, 'provider'))
      link(tv, fixture('slow-before'))
      tv.ok(['secrets', 'create', '--name', 'HOOKED_TOKEN', '--value-stdin'], {input: HOOKED})
      tv.ok(['plugins', 'trust', 'aivault-test-provider'])
      points = await entryPoints(tv, ['hooked/run', 'openai/models'])
    })

    after(async () => {
      await points?.served.stop()
      if (tv) await stopDaemons(tv, env)
      tv?.dispose()
    })

    /** aivaultd (the same process) and serve still answer an ordinary call of each kind. */
    async function stillServing(): Promise<void> {
      for (const call of [{capability: 'openai/models', method: 'GET', path: '/v1/models'}, {capability: 'hooked/run', method: 'GET', path: '/v1/echo'}]) {
        for (const {where, outcome} of await everywhere(tv, points, call)) {
          assert.equal(outcome.error, undefined, `${where} ${call.capability}: ${outcome.text}`)
        }
      }
      assert.deepEqual(daemonPidsUnder(tv.base), [points.pid])
      assert.equal(points.served.proc.exitCode, null)
    }

    it('a hanging provider hook fails within the envelope timeout, and nothing else is stuck', async () => {
      const results = await everywhere(tv, points, {capability: 'hooked/run', method: 'GET', path: '/v1/hang', timeoutMs: ENVELOPE_TIMEOUT_MS})
      for (const {where, outcome, ms} of results) {
        assert.ok(outcome.error, `${where} did not fail: ${outcome.text}`)
        assert.match(outcome.error.message, new RegExp(`plugin aivault-test-provider's aivault:provider hook did not finish within ${ENVELOPE_TIMEOUT_MS} ms`), where)
        if (outcome.error.code !== 'cli') assert.equal(outcome.error.code, 'upstream_timeout', where)
        assert.ok(ms >= ENVELOPE_TIMEOUT_MS - 50 && ms < PROMPTLY_MS, `${where} took ${ms} ms`)
        assert.deepEqual(leakedSpellings(outcome.text, HOOKED), [], where)
      }
      await stillServing()
    })

    it('a hanging before-invoke hook fails within AIVAULT_PLUGIN_HOOK_TIMEOUT_MS and never reaches the upstream', async () => {
      up.requests.length = 0
      const results = await everywhere(tv, points, {capability: 'openai/models', method: 'GET', path: '/v1/models/stall'})
      for (const {where, outcome, ms} of results) {
        assert.ok(outcome.error, `${where} did not fail: ${outcome.text}`)
        assert.match(outcome.error.message, new RegExp(`plugin aivault-test-slow-before's aivault:before-invoke hook did not finish within ${HOOK_TIMEOUT_MS} ms`), where)
        if (outcome.error.code !== 'cli') assert.equal(outcome.error.code, 'upstream_timeout', where)
        assert.ok(ms >= HOOK_TIMEOUT_MS - 50 && ms < PROMPTLY_MS, `${where} took ${ms} ms`)
      }
      assert.equal(up.requests.length, 0, 'a request reached the upstream')
      await stillServing()
      // The hook that gave up once runs normally for the next call.
      assert.ok(up.requests.every((r) => r.headers['x-slow-before'] === 'passed'))
    })
  })

  describe('a before-invoke hook setting authorization', () => {
    let tv: TempVault
    let points: Awaited<ReturnType<typeof entryPoints>>

    before(async () => {
      tv = pluginVault()
      tv.createSecret('OPENAI_API_KEY', OPENAI)
      link(tv, fixture('sets-auth'))
      points = await entryPoints(tv, ['openai/models'])
    })

    after(async () => {
      await points?.served.stop()
      if (tv) await stopDaemons(tv, env)
      tv?.dispose()
    })

    it('is refused as a policy_violation naming the plugin, and nothing reaches the upstream', async () => {
      up.requests.length = 0
      const results = await everywhere(tv, points, {capability: 'openai/models', method: 'GET', path: '/v1/models'})
      results.push({where: 'serve passthrough', outcome: await viaServe(points.served, points.token, {capability: 'openai/models', method: 'GET', path: '/v1/models'}, 'openai'), ms: 0})
      for (const {where, outcome} of results) {
        assert.ok(outcome.error, `${where} was not refused: ${outcome.text}`)
        assert.match(outcome.error.message, /plugin aivault-test-sets-auth's aivault:before-invoke hook set a header the broker refuses/, where)
        assert.match(outcome.error.message, /authorization/i, where)
        if (outcome.error.code !== 'cli') assert.equal(outcome.error.code, 'policy_violation', where)
        if (outcome.status !== undefined) assert.equal(outcome.status, 403, where)
        assert.deepEqual(leakedSpellings(outcome.text, OPENAI), [], where)
      }
      assert.equal(up.requests.length, 0, 'a request reached the upstream')
      assert.deepEqual(daemonPidsUnder(tv.base), [points.pid])
    })
  })
})

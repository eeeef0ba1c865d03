/**
 * Recipients vaults through aivaultd (issue 15, SPEC §10, §11): the daemon opens the KEK with
 * the identity of the environment it was started with, as a CLI process does (nothing to
 * unlock); it follows vault.yaml as git changes it: a member added by another is served after
 * `git pull`, a removed one is refused, and a tampered list fails closed while it runs.
 */
import * as assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {TempVault, expectHumanError, expectJsonError, killDaemonsUnder, parseJson} from './fixture'
import type {Member} from './recipients-helpers'
import {clone, member, publish, pull, push} from './recipients-helpers'
import {resolveEnv, startUpstream, type Upstream} from './upstream'

const KEY = 'sk-team-daemon-0123456789abcdef'

describe('e2e recipients vaults through aivaultd (issue 15)', function () {
  this.timeout(180_000)
  let up: Upstream
  let overrides: Record<string, string>
  let tv: TempVault
  let alice: Member, bob: Member

  before(async () => {
    up = await startUpstream()
    overrides = resolveEnv(up)
  })
  after(async () => {
    await up?.close()
  })
  beforeEach(() => {
    up.reset()
    tv = new TempVault()
    const daemon = {...overrides, AIVAULTD_DISABLE: '0', AIVAULTD_IDLE_EXIT_MS: '60000'}
    alice = member(tv, 'alice', path.join(tv.base, 'alice'), daemon)
    bob = member(tv, 'bob', path.join(tv.base, 'bob'), daemon)
    alice.ok(['init', '--provider', 'recipients', '--name', 'alice', '--testing'])
    alice.ok(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin'], KEY)
  })
  afterEach(async () => {
    for (const m of [alice, bob]) await m.runAsync(['daemon', 'stop'])
    await killDaemonsUnder(tv.base)
    tv.dispose()
  })

  const invoke = (m: Member, json = true) => m.runAsync(['invoke', 'openai/models', ...(json ? ['--json'] : [])])
  const daemonPid = async (m: Member) => parseJson(await m.runAsync(['daemon', 'status', '--json'])).pid as number | null

  it('the daemon opens the vault with its identity (no unlock); status reports the identity as the key file', async () => {
    const status = alice.json(['status'])
    assert.equal(status.provider, 'recipients')
    assert.equal(status.locked, false)
    assert.equal(status.paths.keyFile, alice.identity)
    const result = await invoke(alice)
    assert.equal(result.status, 0, result.stdout + result.stderr)
    assert.equal(up.last()?.headers.authorization, `Bearer ${KEY}`)
    assert.ok((await daemonPid(alice)) !== null, 'the invoke did not go through aivaultd')
    const human = await invoke(alice, false)
    assert.equal(human.status, 0, human.stdout + human.stderr)
  })

  it('a running daemon serves a member once another adds them, and refuses them once removed (after git pull)', async () => {
    const origin = publish(tv, alice.root)
    clone(tv, origin, bob.root)
    const refused = expectJsonError(await invoke(bob), 1, 'vault_locked')
    assert.ok(refused.message.includes(bob.fingerprint), refused.message)
    const pid = await daemonPid(bob)
    assert.ok(pid !== null, 'no daemon for bob')
    assert.equal(up.requests.length, 0)

    alice.ok(['recipients', 'add', '--name', 'bob', '--public-key', bob.publicKey])
    push(tv, alice.root, 'add bob')
    pull(tv, bob.root)
    const served = await invoke(bob)
    assert.equal(served.status, 0, served.stdout + served.stderr)
    assert.equal(up.last()?.headers.authorization, `Bearer ${KEY}`)
    assert.equal(await daemonPid(bob), pid, 'the same daemon served')

    alice.ok(['recipients', 'remove', '--name', 'bob'])
    push(tv, alice.root, 'remove bob')
    pull(tv, bob.root)
    up.reset()
    const removed = expectJsonError(await invoke(bob), 1, 'vault_locked')
    assert.match(removed.message, /is not a recipient/)
    assert.match(expectHumanError(await invoke(bob, false), 1), new RegExp(bob.fingerprint))
    assert.equal(await daemonPid(bob), pid)
    assert.equal(up.requests.length, 0, 'a removed member\'s daemon sent a request')
  })

  it('a recipients list edited under a running daemon fails closed; restored, the daemon serves again', async () => {
    const first = await invoke(alice)
    assert.equal(first.status, 0, first.stdout + first.stderr)
    const file = path.join(alice.root, 'vault.yaml')
    const original = fs.readFileSync(file, 'utf8')
    fs.writeFileSync(file, original.replace('name: alice', 'name: mallory'))
    up.reset()
    const error = expectJsonError(await invoke(alice), 1, 'vault_tampered')
    assert.match(error.message, /^vault\.yaml /)
    assert.equal(up.requests.length, 0)
    fs.writeFileSync(file, original)
    const again = await invoke(alice)
    assert.equal(again.status, 0, again.stdout + again.stderr)
    assert.equal(up.last()?.headers.authorization, `Bearer ${KEY}`)
  })
})

/**
 * End-to-end tests of passphrase vaults held unlocked by aivaultd (SPEC §2 unlock/lock, §10,
 * §15 "Durations"): a passphrase vault is locked after init; `unlock` hands the derived key to
 * the daemon, which then serves later, separate CLI processes (sealing, status, invoke) until
 * `lock`, the TTL or a restart; the passphrase and the key never reach a file, the daemon's
 * command line or any CLI output.
 */
import * as assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import type Sodium from 'libsodium-wrappers-sumo'

import {DaemonClient} from '../../src/daemon/client'
import {TempVault, daemonPidsUnder, expectHumanError, expectJsonError, killDaemonsUnder, parseJson, processAlive, waitForExit, type CliResult, type RunOptions} from './fixture'
import {resolveEnv, startUpstream, type Upstream} from './upstream'

const PASSPHRASE = `daemon-e2e-pass-${randomBytes(12).toString('hex')}`
const WRONG = `daemon-e2e-wrong-${randomBytes(12).toString('hex')}`
const KEY_V1 = 'sk-daemon-unlock-e2e-V1-0123456789abcdef'
const KEY_V2 = 'sk-daemon-unlock-e2e-V2-fedcba9876543210'

describe('e2e aivaultd: passphrase vault unlock and lock (SPEC §2, §10, §15)', function () {
  this.timeout(120_000)
  let up: Upstream
  let tv: TempVault
  let passDir: string
  let passFile: string
  let wrongFile: string
  /** What the unlocking CLI carries: the daemon it starts inherits it (test overrides, autostart). */
  let daemonEnv: Record<string, string>
  /** A later invoke: the daemon's test overrides (it refuses others) and no autostart, so only the running daemon can serve it. */
  let invokeEnv: Record<string, string>
  /** Every CLI result of this suite, for the "passphrase never printed" check. */
  const outputs: CliResult[] = []

  const record = (result: CliResult): CliResult => {
    outputs.push(result)
    return result
  }
  const run = (args: string[], options: RunOptions = {}) => record(tv.run(args, options))
  const runAsync = async (args: string[], options: RunOptions = {}) => record(await tv.runAsync(args, options))
  const unlock = (file: string, extra: string[] = []) => runAsync(['unlock', '--passphrase-file', file, ...extra], {env: daemonEnv})
  /** A later, separate CLI process with neither the test overrides nor autostart: only the daemon can serve it. */
  const createSecret = (name: string, value: string) => run(['secrets', 'create', '--name', name, '--value-stdin', '--json'], {input: value})
  const status = () => parseJson<any>(run(['status', '--json']))
  const daemonStatus = () => parseJson<any>(run(['daemon', 'status', '--json']))

  before(async () => {
    up = await startUpstream()
    daemonEnv = {...resolveEnv(up), AIVAULTD_AUTOSTART: '1'}
    invokeEnv = {...resolveEnv(up), AIVAULTD_AUTOSTART: '0'}
    tv = new TempVault()
    delete tv.env.AIVAULTD_DISABLE
    tv.env.AIVAULTD_IDLE_EXIT_MS = '60000'
    // The passphrase files live outside the temp base, so the "nowhere on disk" scan covers all of it.
    passDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-pass-'))
    passFile = path.join(passDir, 'pass')
    wrongFile = path.join(passDir, 'wrong')
    fs.writeFileSync(passFile, `${PASSPHRASE}\n`, {mode: 0o600})
    fs.writeFileSync(wrongFile, `${WRONG}\n`, {mode: 0o600})
    const init = run(['init', '--provider', 'passphrase', '--passphrase-file', passFile, '--testing', '--json'])
    assert.equal(init.status, 0, init.stderr)
  })

  after(async () => {
    if (tv) {
      await tv.runAsync(['daemon', 'stop'], {env: daemonEnv})
      await killDaemonsUnder(tv.base)
      tv.dispose()
    }
    await up?.close()
    if (passDir) fs.rmSync(passDir, {recursive: true, force: true})
  })

  it('is locked right after init: status says so and sealing a secret fails with vault_locked', () => {
    const st = status()
    assert.equal(st.provider, 'passphrase')
    assert.equal(st.locked, true)
    assert.equal(st.testing, true)
    assert.equal(st.daemon.running, false)
    expectJsonError(createSecret('OPENAI_API_KEY', KEY_V1), 1, 'vault_locked')
    const human = run(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin'], {input: KEY_V1})
    expectHumanError(human, 1)
    assert.equal(fs.readdirSync(path.join(tv.root, 'secrets')).filter((f) => f.endsWith('.yaml')).length, 0, 'a locked vault wrote a secret record')
  })

  it('refuses a wrong passphrase with auth_failed (exit 1) and stays locked', async () => {
    expectJsonError(await unlock(wrongFile, ['--json']), 1, 'auth_failed')
    const message = expectHumanError(await unlock(wrongFile), 1)
    assert.match(message, /passphrase/i)
    assert.equal(status().locked, true)
    // A daemon runs now (unlock started it) but holds no key: sealing still fails closed.
    assert.equal(daemonStatus().running, true)
    expectJsonError(createSecret('OPENAI_API_KEY', KEY_V1), 1, 'vault_locked')
  })

  it('unlock serves later CLI processes: secrets create, rotate, status and invoke through the daemon', async () => {
    const before = Date.now()
    const unlocked = parseJson<any>(await unlock(passFile, ['--json']))
    assert.equal(unlocked.locked, false)
    const until = Date.parse(unlocked.unlockedUntil)
    assert.ok(Number.isFinite(until), `unlockedUntil is not a time: ${unlocked.unlockedUntil}`)
    const eightHours = 8 * 3600_000
    assert.ok(until >= before + eightHours - 60_000 && until <= Date.now() + eightHours + 60_000, `default TTL is not 8h: ${unlocked.unlockedUntil}`)

    const st = status()
    assert.equal(st.locked, false)
    assert.equal(st.daemon.running, true)
    assert.equal(st.daemon.socket, path.join(tv.root, 'run', 'aivaultd.sock'))

    const created = parseJson<any>(createSecret('OPENAI_API_KEY', KEY_V1))
    assert.equal(created.secret?.name, 'OPENAI_API_KEY', JSON.stringify(created))
    assert.equal(created.secret.valueVersion, 1)
    assert.equal(created.credential?.provider, 'openai')

    // invoke from a process that may not start a daemon: the daemon started by unlock serves
    // it, and it holds the key.
    const first = await runAsync(['invoke', 'openai/models', '--json'], {env: invokeEnv})
    assert.equal(first.status, 0, first.stdout + first.stderr)
    assert.equal(parseJson<any>(first).response.status, 200)
    assert.equal(up.last()?.headers.authorization, `Bearer ${KEY_V1}`)

    const rotated = parseJson<any>(run(['secrets', 'rotate', '--name', 'OPENAI_API_KEY', '--value-stdin', '--json'], {input: KEY_V2}))
    assert.equal(rotated.secret?.valueVersion, 2, JSON.stringify(rotated))
    const second = await runAsync(['invoke', 'openai/models', '--json'], {env: invokeEnv})
    assert.equal(second.status, 0, second.stdout + second.stderr)
    assert.equal(up.last()?.headers.authorization, `Bearer ${KEY_V2}`, 'the daemon did not see the rotated value')

    // The CLI process itself never holds the key: run in-process, the same vault is locked.
    const inProcess = await runAsync(['invoke', 'openai/models', '--json'], {env: {...resolveEnv(up), AIVAULTD_DISABLE: '1'}})
    expectJsonError(inProcess, 1, 'vault_locked')
  })

  it('lock makes the next CLI process fail with vault_locked again', async () => {
    const locked = parseJson<any>(await runAsync(['lock', '--json']))
    assert.equal(locked.locked, true)
    assert.equal(locked.wasUnlocked, true)
    expectJsonError(createSecret('SECOND_KEY', 'second-value-after-lock'), 1, 'vault_locked')
    assert.equal(status().locked, true)
    const requests = up.requests.length
    expectJsonError(await runAsync(['invoke', 'openai/models', '--json'], {env: invokeEnv}), 1, 'vault_locked')
    assert.equal(up.requests.length, requests, 'a locked vault still reached the upstream')
    // Locking twice is harmless.
    const again = parseJson<any>(await runAsync(['lock', '--json']))
    assert.equal(again.locked, true)
    assert.equal(again.wasUnlocked, false)
  })

  it('--ttl 2s is honoured, and the vault locks itself again once its TTL has passed (no waiting)', async () => {
    const start = Date.now()
    const unlocked = parseJson<any>(await unlock(passFile, ['--ttl', '2s', '--json']))
    const until = Date.parse(unlocked.unlockedUntil)
    assert.ok(until >= start + 1000 && until <= Date.now() + 2500, `unlockedUntil is not ~2s away: ${unlocked.unlockedUntil}`)
    assert.equal(status().locked, false)
    const created = createSecret('TTL_KEY', 'ttl-value-1')
    if (Date.now() < until) assert.equal(created.status, 0, created.stdout + created.stderr)

    // Unlock again through the daemon's own protocol with a 1 ms TTL (the CLI's --ttl starts
    // at 1s; the daemon takes any positive TTL): it has passed before another process can ask.
    const client = await DaemonClient.connect(path.join(tv.root, 'run', 'aivaultd.sock'))
    assert.ok(client, 'no daemon answers on the vault\'s socket')
    let shortUntil: number
    try {
      const reply = await client.request<{locked: boolean; unlockedUntil: string}>('unlock', {passphrase: PASSPHRASE, ttlMs: 1})
      assert.equal(reply.locked, false)
      shortUntil = Date.parse(reply.unlockedUntil)
    } finally {
      client.close()
    }
    assert.ok(Date.now() > shortUntil, 'the 1 ms TTL has not passed yet (the clock went back?)')
    assert.equal(status().locked, true, 'still unlocked after the TTL')
    expectJsonError(createSecret('TTL_KEY_2', 'ttl-value-2'), 1, 'vault_locked')
    expectJsonError(await runAsync(['invoke', 'openai/models', '--json'], {env: invokeEnv}), 1, 'vault_locked')
  })

  it('rejects a malformed --ttl as a usage error (exit 2) without unlocking', async () => {
    for (const ttl of ['2x', '10', 'soon', '0s']) {
      const result = await runAsync(['unlock', '--passphrase-file', passFile, '--ttl', ttl, '--json'], {env: daemonEnv})
      assert.equal(result.status, 2, `--ttl ${ttl}: exit ${result.status}\n${result.stdout}${result.stderr}`)
    }
    assert.equal(status().locked, true)
  })

  it('daemon restart forgets the key (a new pid, locked again)', async () => {
    const unlocked = await unlock(passFile, ['--json'])
    assert.equal(unlocked.status, 0, unlocked.stdout + unlocked.stderr)
    const before = daemonStatus()
    assert.equal(before.running, true)
    assert.equal(before.locked, false)
    const restarted = parseJson<any>(await runAsync(['daemon', 'restart', '--json'], {env: daemonEnv}))
    assert.equal(restarted.running, true)
    assert.notEqual(restarted.pid, before.pid)
    assert.ok(await waitForExit(before.pid), `the old daemon ${before.pid} still runs`)
    assert.equal(status().locked, true)
    expectJsonError(createSecret('AFTER_RESTART', 'after-restart-value'), 1, 'vault_locked')
  })

  it('the passphrase and the derived key appear in no file, no daemon argument list and no CLI output', async () => {
    const unlocked = await unlock(passFile, ['--json'])
    assert.equal(unlocked.status, 0, unlocked.stdout + unlocked.stderr)
    // Give the vault some traffic while unlocked, so every file kind exists.
    assert.equal(createSecret('LEAK_CHECK', 'leak-check-value').status, 0)
    const daemon = daemonStatus()
    assert.equal(daemon.running, true)
    assert.ok(Number.isInteger(daemon.pid) && processAlive(daemon.pid), `no live daemon pid: ${JSON.stringify(daemon)}`)
    assert.deepEqual(daemonPidsUnder(tv.base), [daemon.pid])

    // The key the daemon must be holding: Argon2id over the passphrase with vault.yaml's salt and limits.
    const sodium = require('libsodium-wrappers-sumo') as typeof Sodium
    await sodium.ready
    const config = fs.readFileSync(path.join(tv.root, 'vault.yaml'), 'utf8')
    const field = (name: string) => {
      const match = new RegExp(`^\\s+${name}: "?([^"\\n]+)"?$`, 'm').exec(config)
      assert.ok(match, `vault.yaml lacks keyProvider.${name}:\n${config}`)
      return match[1]
    }
    const kek = Buffer.from(sodium.crypto_pwhash(32, Buffer.from(PASSPHRASE), new Uint8Array(Buffer.from(field('salt'), 'base64')),
      Number(field('opsLimit')), Number(field('memLimit')), sodium.crypto_pwhash_ALG_ARGON2ID13))
    const needles: Record<string, string> = {
      'passphrase': PASSPHRASE,
      'passphrase (base64)': Buffer.from(PASSPHRASE).toString('base64'),
      'passphrase (hex)': Buffer.from(PASSPHRASE).toString('hex'),
      'key (base64)': kek.toString('base64'),
      'key (base64url)': kek.toString('base64url'),
      'key (hex)': kek.toString('hex'),
      'key (raw bytes)': kek.toString('latin1'),
    }

    const places: Record<string, string> = {}
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, {withFileTypes: true})) {
        const full = path.join(dir, entry.name)
        if (entry.isDirectory()) walk(full)
        else if (entry.isFile()) places[path.relative(tv.base, full)] = fs.readFileSync(full, 'latin1')
      }
    }
    walk(tv.base)
    assert.ok(Object.keys(places).some((f) => f.startsWith(`vault${path.sep}audit${path.sep}`)), 'no audit file to check')
    assert.ok(Object.keys(places).some((f) => f.startsWith(`vault${path.sep}secrets${path.sep}`)), 'no secret record to check')
    places['/proc/<daemon>/cmdline'] = fs.readFileSync(`/proc/${daemon.pid}/cmdline`, 'latin1')
    places['/proc/<daemon>/environ'] = fs.readFileSync(`/proc/${daemon.pid}/environ`, 'latin1')
    assert.match(places['/proc/<daemon>/cmdline'], /aivaultd/)
    for (const [i, result] of outputs.entries()) {
      places[`output #${i} stdout`] = result.stdout
      places[`output #${i} stderr`] = result.stderr
    }
    const found: string[] = []
    for (const [what, needle] of Object.entries(needles)) {
      for (const [where, text] of Object.entries(places)) if (text.includes(needle)) found.push(`${what} in ${where}`)
    }
    assert.deepEqual(found, [])
    assert.ok(outputs.length > 20, `too few outputs recorded: ${outputs.length} (run the whole suite)`)
  })
})

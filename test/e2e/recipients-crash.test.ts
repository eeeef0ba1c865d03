/**
 * Recipients changes killed part-way (issue 15: "crash-safe like rotate-master"): a removal
 * or a switch from `file` SIGKILLed while it re-wraps records leaves a vault every remaining
 * member opens, and whichever command resumes it (the same one, rotate-master, doctor --fix)
 * finishes the change that was started: the removed member stays removed.
 */
import * as assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {CLI, TempVault, expectJsonError, parseJson} from './fixture'
import type {Member} from './recipients-helpers'
import {member} from './recipients-helpers'

const COUNT = 300

/** Run the CLI as `m` and SIGKILL it as soon as a secret record is replaced (a re-wrap landed). */
function killOnFirstRewrap(tv: TempVault, m: Member, args: string[]): Promise<{code: number | null; signal: NodeJS.Signals | null}> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {env: {...tv.env, ...m.env}, cwd: tv.base, stdio: 'ignore'})
    const watcher = fs.watch(path.join(m.root, 'secrets'), (_event, name) => {
      if (name && /^[0-9a-f-]{36}\.yaml$/.test(String(name))) child.kill('SIGKILL')
    })
    child.on('error', (error) => {
      watcher.close()
      reject(error)
    })
    child.on('exit', (code, signal) => {
      watcher.close()
      resolve({code, signal})
    })
  })
}

function fill(tv: TempVault, m: Member): void {
  const file = path.join(tv.base, 'bulk.env')
  fs.writeFileSync(file, Array.from({length: COUNT}, (_, i) => `CRASH_SECRET_${i}=value-${i}`).join('\n') + '\n')
  m.ok(['secrets', 'import', '--from-env-file', file])
}

/** doctor's view: how many records `m` opens, and which checks found something (temp files a kill leaves are expected). */
function opened(m: Member): {opened: number; checks: string[]} {
  const report = parseJson(m.run(['doctor', '--json']))
  return {opened: report.checked.opened, checks: report.findings.map((f: any) => f.check).filter((c: string) => c !== 'temp-files')}
}

const kekIdsOfRecords = (root: string): Set<string> =>
  new Set(fs.readdirSync(path.join(root, 'secrets')).filter((name) => /^[0-9a-f-]{36}\.yaml$/.test(name)).map((name) => /kekId: "?(\w+)/.exec(fs.readFileSync(path.join(root, 'secrets', name), 'utf8'))![1]))

describe('e2e recipients changes killed part-way (issue 15)', function () {
  this.timeout(180_000)
  let tv: TempVault
  let alice: Member, bob: Member, carol: Member

  beforeEach(() => {
    tv = new TempVault()
    alice = member(tv, 'alice', tv.root)
    bob = member(tv, 'bob', tv.root)
    carol = member(tv, 'carol', tv.root)
  })
  afterEach(() => tv.dispose())

  it('a killed removal still opens for the others; rotate-master resumes it without the removed member', async () => {
    alice.ok(['init', '--provider', 'recipients', '--name', 'alice'])
    alice.ok(['recipients', 'add', '--name', 'bob', '--public-key', bob.publicKey])
    alice.ok(['recipients', 'add', '--name', 'carol', '--public-key', carol.publicKey])
    fill(tv, alice)
    const killed = await killOnFirstRewrap(tv, alice, ['recipients', 'remove', '--name', 'carol'])
    assert.equal(killed.signal, 'SIGKILL', 'the removal finished before the kill')
    assert.ok(kekIdsOfRecords(tv.root).size === 2, 'no record was re-wrapped, or all were')
    for (const m of [alice, bob]) {
      const view = opened(m)
      assert.equal(view.opened, COUNT, `${m.name} lost records`)
      assert.ok(view.checks.includes('rotation'), `${m.name}: the interrupted rotation is not reported`)
    }

    const resumed = bob.json(['rotate-master'])
    assert.equal(resumed.resumed, true)
    assert.deepEqual(resumed.settings.recipients.map((r: any) => r.name), ['alice', 'bob'])
    assert.deepEqual([...kekIdsOfRecords(tv.root)], [resumed.kekId])
    assert.ok(!fs.existsSync(path.join(tv.root, 'run', 'rotation.json')))
    for (const m of [alice, bob]) assert.deepEqual(opened(m), {opened: COUNT, checks: []}, m.name)
    expectJsonError(carol.run(['secrets', 'rotate', '--name', 'CRASH_SECRET_1', '--value', 'x', '--json']), 1, 'vault_locked')
    assert.deepEqual(alice.json(['recipients', 'list']).recipients.map((r: any) => r.name), ['alice', 'bob'])
  })

  it('a killed removal run again finishes it; the vault is left with one key', async () => {
    alice.ok(['init', '--provider', 'recipients', '--name', 'alice'])
    alice.ok(['recipients', 'add', '--name', 'carol', '--public-key', carol.publicKey])
    fill(tv, alice)
    assert.equal((await killOnFirstRewrap(tv, alice, ['recipients', 'remove', '--name', 'carol'])).signal, 'SIGKILL')
    const finished = alice.json(['recipients', 'remove', '--name', 'carol'])
    assert.deepEqual(finished.recipients.map((r: any) => r.name), ['alice'])
    assert.deepEqual([...kekIdsOfRecords(tv.root)], [finished.kekId])
    assert.deepEqual(opened(alice), {opened: COUNT, checks: []})
    expectJsonError(carol.run(['secrets', 'rotate', '--name', 'CRASH_SECRET_1', '--value', 'x', '--json']), 1, 'vault_locked')
  })

  for (const resume of [['recipients', 'init', '--name', 'alice'], ['rotate-master']]) {
    it(`a killed switch from file still opens with the key file; "${resume.join(' ')}" finishes the switch`, async () => {
      const file = alice.json(['init'])
      fill(tv, alice)
      const keyFile = fs.readFileSync(file.paths.keyFile)
      assert.equal((await killOnFirstRewrap(tv, alice, ['recipients', 'init', '--name', 'alice'])).signal, 'SIGKILL')
      assert.equal(alice.json(['status']).provider, 'file')
      assert.equal(opened(alice).opened, COUNT)

      const done = alice.json(resume)
      assert.equal(alice.json(['status']).provider, 'recipients')
      assert.deepEqual([...kekIdsOfRecords(tv.root)], [done.kekId])
      assert.deepEqual(alice.json(['recipients', 'list']).recipients.map((r: any) => [r.name, r.you]), [['alice', true]])
      assert.deepEqual(opened(alice), {opened: COUNT, checks: []})
      assert.deepEqual(fs.readFileSync(file.paths.keyFile), keyFile, 'the old key file changed')
      assert.ok(!fs.existsSync(`${file.paths.keyFile}.next`))
      expectJsonError(bob.run(['secrets', 'rotate', '--name', 'CRASH_SECRET_1', '--value', 'x', '--json']), 1, 'vault_locked')
    })
  }
})

/**
 * The vault lock (src/vault/store/lock.ts; SPEC §1, issue 12 item 14) is never held by two
 * processes at once: many processes take it in turn while stale locks (holders that died by
 * SIGKILL, and planted locks of a dead pid) are broken concurrently by every waiter. Each
 * critical section logs its start and end in a shared file; no two sections may overlap.
 */
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {withFileLock} from '../../src/vault/store/lock'

const WORKER = path.join(__dirname, 'helpers', 'lock-worker.ts')

function runWorker(args: string[]): Promise<{code: number | null; signal: NodeJS.Signals | null; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', WORKER, ...args], {stdio: ['ignore', 'ignore', 'pipe']})
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('exit', (code, signal) => resolve({code, signal, stderr}))
  })
}

/** A pid that is certainly not running: a child that has exited (and been reaped). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {encoding: 'utf8'})
  return Number(child.stdout)
}

/** The sections in the log overlap nowhere; a section whose process was killed (K) ends at the kill. */
function assertNoOverlap(lines: string[]): {sections: number; killed: number} {
  let open: string | undefined
  let sections = 0
  let killed = 0
  for (const [index, line] of lines.entries()) {
    const [kind, id] = line.split(' ')
    const where = `line ${index + 1} (${line}); lines around it:\n${lines.slice(Math.max(0, index - 4), index + 2).join('\n')}`
    if (kind === 'S') {
      assert.equal(open, undefined, `two processes held the lock at once: ${where}`)
      open = id
    } else if (kind === 'E') {
      assert.equal(open, id, `a section ended that was not the one open: ${where}`)
      open = undefined
      sections++
    } else if (kind === 'K') {
      assert.equal(open, id, where)
      open = undefined
      killed++
    }
  }
  return {sections, killed}
}

describe('vault lock (src/vault/store/lock.ts)', function () {
  this.timeout(300_000)
  let base: string

  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-lock-'))
  })

  afterEach(() => fs.rmSync(base, {recursive: true, force: true}))

  it('is held by one process at a time while stale locks are broken by many waiters at once', async () => {
    const lockFile = path.join(base, 'run', 'lock')
    const logFile = path.join(base, 'sections.log')
    fs.mkdirSync(path.dirname(lockFile))
    const dead = String(deadPid())
    // Sized so that the old lock (rename-and-link-back breaking, unconditional release) overlapped in most runs.
    const iterations = 60
    const planters = 12
    const workers: Promise<{code: number | null; signal: NodeJS.Signals | null; stderr: string}>[] = []
    for (let i = 0; i < planters; i++) workers.push(runWorker([lockFile, logFile, String(iterations), `plant${i}`, 'plant', dead]))
    for (let i = 0; i < 3; i++) workers.push(runWorker([lockFile, logFile, String(iterations), `die${i}`, 'die']))
    const results = await Promise.all(workers)
    for (const [i, result] of results.entries()) {
      if (i >= planters) assert.equal(result.signal, 'SIGKILL', `worker ${i} was to die in the lock: ${result.stderr}`)
      else assert.equal(result.code, 0, `worker ${i}: ${result.stderr}`)
    }
    const {sections, killed} = assertNoOverlap(fs.readFileSync(logFile, 'utf8').trim().split('\n'))
    assert.equal(killed, 3)
    assert.ok(sections >= planters * iterations, `every section of the surviving workers ran (${sections})`)
  })

  it('release leaves a lock that is not its own in place', async () => {
    const lockFile = path.join(base, 'lock')
    await withFileLock(lockFile, () => {
      // Someone replaced the lock while we held it (an operator removing it by hand, then another process taking it).
      fs.rmSync(lockFile)
      fs.writeFileSync(lockFile, `${process.ppid} abcdef0123\n`)
    })
    assert.equal(fs.readFileSync(lockFile, 'utf8'), `${process.ppid} abcdef0123\n`)
  })

  it('a stale lock of a dead process is broken; a garbage lock only once it is old', async () => {
    const lockFile = path.join(base, 'lock')
    fs.writeFileSync(lockFile, `${deadPid()}\n`)
    assert.equal(await withFileLock(lockFile, () => 'taken'), 'taken')
    assert.equal(fs.existsSync(lockFile), false)
    fs.writeFileSync(lockFile, 'not a lock file')
    const old = new Date(Date.now() - 60_000)
    fs.utimesSync(lockFile, old, old)
    assert.equal(await withFileLock(lockFile, () => 'taken again'), 'taken again')
  })

  it('a lock file that is a link is refused, never followed', async () => {
    const lockFile = path.join(base, 'lock')
    const target = path.join(base, 'target')
    fs.writeFileSync(target, 'target bytes')
    fs.symlinkSync(target, lockFile)
    await assert.rejects(withFileLock(lockFile, () => 'never'), /is a symbolic link/)
    assert.equal(fs.readFileSync(target, 'utf8'), 'target bytes')
  })
})

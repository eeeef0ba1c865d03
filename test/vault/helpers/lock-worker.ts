/**
 * A process that takes a lock file over and over (test/vault/lock.test.ts): inside the critical
 * section it appends `S <id>` to a shared log, waits a little, then appends `E <id>`. With
 * `die`, it SIGKILLs itself inside one section (after logging `K <id>`), leaving a stale lock.
 * With `plant`, it also leaves stale locks of a dead process behind between its sections.
 * Usage: node -r tsx/cjs lock-worker.ts <lockFile> <logFile> <iterations> <tag> [die|plant] [deadPid]
 */
import * as fs from 'node:fs'

import {withFileLock} from '../../../src/vault/store/lock'

const [lockFile, logFile, iterations, tag, mode, deadPid] = process.argv.slice(2)
const log = (line: string) => fs.appendFileSync(logFile, `${line}\n`)

async function main(): Promise<void> {
  const dieAt = mode === 'die' ? Math.floor(Math.random() * Number(iterations)) : -1
  for (let i = 0; i < Number(iterations); i++) {
    const id = `${tag}.${i}`
    await withFileLock(lockFile, async () => {
      log(`S ${id}`)
      if (i === dieAt) {
        log(`K ${id}`)
        process.kill(process.pid, 'SIGKILL')
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 2))
      log(`E ${id}`)
    })
    if (mode === 'plant') {
      // A lock left by a process that died: every contender now races to break it.
      try {
        fs.writeFileSync(lockFile, `${deadPid}\n`, {flag: 'wx'})
      } catch {
        /* someone holds it: nothing to plant */
      }
    }
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})

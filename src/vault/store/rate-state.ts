import * as path from 'node:path'

import {writeFileAtomic} from './atomic-file'
import {withFileLock} from './lock'
import {encodeRecordFileName} from './paths'
import {readVaultFile} from './vault-file'

/**
 * Sliding-window rate counters shared by every process on this machine (SPEC §6): one small
 * JSON file of recent call times per key under run/ratelimit/, updated under a lock.
 */
export class RateState {
  /** The vault root: `dir` is its run/ratelimit. */
  private readonly root: string

  constructor(private readonly dir: string) {
    this.root = path.dirname(path.dirname(dir))
  }

  /** Record a call if fewer than `limit` happened in the last `windowMs`; false when over. */
  async take(key: string, limit: number, windowMs = 60_000, clock: () => number = Date.now): Promise<boolean> {
    const name = encodeRecordFileName(key).replace(/\.yaml$/, '.json')
    const file = path.join(this.dir, name)
    return withFileLock(path.join(this.dir, 'lock'), () => {
      // The clock is read under the lock: a process that waited must not judge by an older time.
      const now = clock()
      let times: number[] = []
      try {
        // A link or special file here is refused, and replaced by the write below.
        const parsed = JSON.parse(readVaultFile(file, `run/ratelimit/${name}`) ?? '[]')
        if (Array.isArray(parsed)) times = parsed.filter((t) => typeof t === 'number')
      } catch {
        times = []
      }
      times = times.filter((t) => t > now - windowMs)
      if (times.length >= limit) return false
      times.push(now)
      writeFileAtomic(file, JSON.stringify(times), {syncDir: false, root: this.root})
      return true
    }, this.root)
  }
}

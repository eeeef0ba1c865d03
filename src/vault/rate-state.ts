import * as path from 'node:path'

import {readFileIfExists, writeFileAtomic} from './atomic-file'
import {withFileLock} from './lock'
import {encodeRecordFileName} from './paths'

/**
 * Sliding-window rate counters shared by every process on this machine (SPEC §6): one small
 * JSON file of recent call times per key under run/ratelimit/, updated under a lock.
 */
export class RateState {
  constructor(private readonly dir: string) {}

  /** Record a call if fewer than `limit` happened in the last `windowMs`; false when over. */
  async take(key: string, limit: number, windowMs = 60_000, clock: () => number = Date.now): Promise<boolean> {
    const file = path.join(this.dir, encodeRecordFileName(key).replace(/\.yaml$/, '.json'))
    return withFileLock(path.join(this.dir, 'lock'), () => {
      // The clock is read under the lock: a process that waited must not judge by an older time.
      const now = clock()
      let times: number[] = []
      try {
        const parsed = JSON.parse(readFileIfExists(file) ?? '[]')
        if (Array.isArray(parsed)) times = parsed.filter((t) => typeof t === 'number')
      } catch {
        times = []
      }
      times = times.filter((t) => t > now - windowMs)
      if (times.length >= limit) return false
      times.push(now)
      writeFileAtomic(file, JSON.stringify(times), {syncDir: false})
      return true
    })
  }
}

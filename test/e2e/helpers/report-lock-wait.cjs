/**
 * Preloaded into CLI processes by a test (NODE_OPTIONS=--require): the first time this process
 * finds AIVAULT_TEST_LOCK_FILE taken, it creates a file named for its pid in
 * AIVAULT_TEST_LOCK_REPORTS. Observation only: the lock code runs unchanged, so a test can wait
 * for "every process is queued at the lock" instead of sleeping and hoping.
 */
const fs = require('node:fs')
const path = require('node:path')

const lockFile = path.resolve(process.env.AIVAULT_TEST_LOCK_FILE)
const reports = process.env.AIVAULT_TEST_LOCK_REPORTS
const link = fs.linkSync
let reported = false

fs.linkSync = function (from, to) {
  try {
    return link.call(this, from, to)
  } catch (error) {
    if (!reported && error.code === 'EEXIST' && path.resolve(String(to)) === lockFile) {
      reported = true
      fs.writeFileSync(path.join(reports, String(process.pid)), '')
    }
    throw error
  }
}

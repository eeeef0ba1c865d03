/**
 * A one-line progress bar on stderr when it is a terminal; nothing at all otherwise, so
 * scripts and JSON output stay clean (SPEC §0). Redraws at most ~20 times a second.
 */
export function progressReporter(label: string, stream: NodeJS.WriteStream = process.stderr): {update: (done: number, total: number) => void; done: () => void} {
  if (!stream.isTTY) return {update: () => {}, done: () => {}}
  let last = 0
  let drawn = false
  const width = 30
  return {
    update(done, total) {
      const now = Date.now()
      if (done !== total && now - last < 50) return
      last = now
      const ratio = total === 0 ? 1 : done / total
      const filled = Math.round(ratio * width)
      stream.write(`\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}`)
      drawn = true
    },
    done() {
      if (drawn) stream.write('\r\x1b[K')
    },
  }
}

/**
 * A file git left with conflict markers, split back into its two sides. Lines outside the
 * conflict blocks belong to both; inside a block, the lines before `=======` are "ours" (what
 * `git checkout --ours` restores: HEAD in a merge, the upstream in a rebase) and the lines after
 * it "theirs". A diff3 base section (`|||||||`) is kept apart. Used by doctor to explain a
 * conflict and by the textconv driver to show one.
 */

/** A marker line git writes: seven characters, then a space and a label, or the line's end. */
export const CONFLICT_MARKER = /^(<{7}|={7}|>{7})( |$)/m

export interface ConflictSides {
  ours: string
  theirs: string
  /** The common ancestor's lines, when git wrote them (merge.conflictStyle diff3 or zdiff3). */
  base?: string
  /** The labels git put after the markers (`HEAD`, `origin/main`, a commit and its subject). */
  oursLabel: string
  theirsLabel: string
}

export function hasConflictMarkers(text: string): boolean {
  return CONFLICT_MARKER.test(text)
}

/** Split a conflicted file into its sides; undefined when the markers do not pair up. */
export function splitConflict(text: string): ConflictSides | undefined {
  const ours: string[] = []
  const theirs: string[] = []
  const base: string[] = []
  let oursLabel = ''
  let theirsLabel = ''
  let sawBase = false
  let state: 'common' | 'ours' | 'base' | 'theirs' = 'common'
  let blocks = 0
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  for (const line of lines) {
    const label = (marker: string) => line.slice(marker.length).trim()
    if (line.startsWith('<<<<<<<') && state === 'common') {
      state = 'ours'
      oursLabel ||= label('<<<<<<<')
      blocks++
    } else if (line.startsWith('|||||||') && state === 'ours') {
      state = 'base'
      sawBase = true
    } else if (/^={7}$/.test(line) && (state === 'ours' || state === 'base')) {
      state = 'theirs'
    } else if (line.startsWith('>>>>>>>') && state === 'theirs') {
      state = 'common'
      theirsLabel ||= label('>>>>>>>')
    } else if (state === 'common') {
      ours.push(line)
      theirs.push(line)
      base.push(line)
    } else if (state === 'ours') {
      ours.push(line)
    } else if (state === 'base') {
      base.push(line)
    } else {
      theirs.push(line)
    }
  }
  if (state !== 'common' || blocks === 0) return undefined
  const joined = (side: string[]) => (side.length > 0 ? side.join('\n') + '\n' : '')
  return {
    ours: joined(ours),
    theirs: joined(theirs),
    ...(sawBase ? {base: joined(base)} : {}),
    oursLabel: oursLabel || 'ours',
    theirsLabel: theirsLabel || 'theirs',
  }
}

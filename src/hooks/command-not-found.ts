import {Errors, type Hook} from '@oclif/core'

import {importModule} from '../plugins/import-module'
import {errorLines} from '../render/colour'

type NotFound = Hook.CommandNotFound

/**
 * An unknown command is a usage error like any other: `Error:` + `Hint: did you mean …` on
 * stderr (a JSON error with --json), exit 2. On an interactive terminal with a close match,
 * @oclif/plugin-not-found asks "Did you mean …?" and runs the command on yes. The plugin is
 * used as a library, not listed in oclif.plugins: its own hook would also print oclif's
 * warning and error and exit 127.
 */
const commandNotFound: NotFound = async function (options) {
  const {config} = options
  const words = options.id.split(':')
  // The unknown command is the known topic words plus the first unknown one (the rest are its arguments).
  let known = 0
  while (known < words.length - 1 && config.findTopic(words.slice(0, known + 1).join(':'))) known++
  const typed = words.slice(0, known + 1).join(':')
  const suggestion = closestCommand(typed, visibleIds(config.commands))
  const argv = options.argv ?? []
  const json = argv.includes('--json')
  if (suggestion && !json && process.stdin.isTTY && process.stdout.isTTY) {
    const plugin = (await importModule('@oclif/plugin-not-found')) as {default: NotFound}
    // The plugin's warning is ours to print; its "error" means the answer was no.
    const context = {...this, warn: () => {}, error: () => fail(), exit: () => fail()}
    return plugin.default.call(context as typeof this, options)
  }
  return fail()

  function fail(): never {
    const spoken = (id: string) => id.replaceAll(':', ' ')
    const message = `"${spoken(typed)}" is not an aivault command`
    const topic = known > 0 ? ` ${spoken(words.slice(0, known).join(':'))}` : ''
    const hint = suggestion ? `did you mean "${config.bin} ${spoken(suggestion)}"? See "${config.bin}${topic} --help"` : `see "${config.bin}${topic} --help" for the commands`
    if (json) process.stdout.write(JSON.stringify({error: {code: 'invalid_request', message, hint}}, null, 2) + '\n')
    else process.stderr.write(errorLines(message, hint))
    return Errors.exit(2)
  }
}

/** Command ids and the aliases shown in help (hidden commands and aliases are never suggested). */
function visibleIds(commands: Array<{id: string; hidden?: boolean; aliases?: string[]}>): string[] {
  return commands.filter((c) => !c.hidden).flatMap((c) => [c.id, ...(c.aliases ?? [])])
}

/** The id nearest to `typed` by edit distance, when it is close enough to be what was meant. */
export function closestCommand(typed: string, ids: string[]): string | undefined {
  let best: {id: string; distance: number} | undefined
  for (const id of ids) {
    const distance = editDistance(typed, id)
    if (!best || distance < best.distance || (distance === best.distance && id < best.id)) best = {id, distance}
  }
  return best && best.distance <= Math.max(2, Math.floor(typed.length / 4)) ? best.id : undefined
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({length: b.length + 1}, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    previous = current
  }
  return previous[b.length]
}

export default commandNotFound

/**
 * The fast path of the two commands users and agents run most to look around (issue 18):
 * `aivault secrets list` and `aivault capability list`, exactly so or with `--json`, answered by
 * bin/run.js from a small bundle of their own (dist/fast.js) without loading oclif, which was
 * half of their time. Any other flag, DEBUG, a plugin with oclif lifecycle hooks (only oclif
 * runs those), or an unexpected failure hands the command line to the full CLI, which prints
 * the same: both paths call listing-commands.ts, and test/e2e/fast-path.test.ts compares them.
 * AIVAULT_FAST_PATH=0 turns it off.
 */
import {errorJson, isAivaultError} from '../../errors'
import {startupWarnings} from '../../plugins/runtime'
import {errorLines} from '../../render/colour'
import {needsFullCli, writeWarnings} from './fast-common'
import type {ListingOutcome} from './listing-commands'
import {capabilityListOutcome, secretsListOutcome} from './listing-commands'

const COMMANDS: Record<string, () => ListingOutcome<unknown>> = {
  'secrets list': () => secretsListOutcome(),
  'capability list': () => capabilityListOutcome(),
}

/** The flags that turn on JSON output (AivaultCommand: --json, and -v/--verbose). */
const JSON_FLAGS = new Set(['--json', '-v', '--verbose'])

/** Whether bin/run.js should try the fast path for this command line (it loads nothing). */
export function mayRunFast(argv: readonly string[]): boolean {
  return (argv.length === 2 || (argv.length === 3 && JSON_FLAGS.has(argv[2]))) && `${argv[0]} ${argv[1]}` in COMMANDS
}

/** Answer the command line, or return false (having printed nothing) for the full CLI to answer. */
export function runFast(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
  if (!mayRunFast(argv) || needsFullCli(env)) return false
  const json = argv.length === 3
  let outcome: ListingOutcome<unknown>
  try {
    outcome = COMMANDS[`${argv[0]} ${argv[1]}`]()
  } catch (error) {
    if (!isAivaultError(error)) return false
    writeWarnings(startupWarnings(env))
    if (json) process.stdout.write(errorJson(error))
    else process.stderr.write(errorLines(error.message, error.hint))
    process.exitCode = error.exitCode
    return true
  }
  writeWarnings([...startupWarnings(env), ...outcome.notes])
  process.stdout.write(json ? `${JSON.stringify(outcome.result, null, 2)}\n` : `${outcome.text}\n`)
  return true
}

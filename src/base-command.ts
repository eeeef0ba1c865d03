import {Command, Errors, Flags} from '@oclif/core'

import {AivaultError, errorJson} from './errors'
import {startupWarnings} from './plugins/runtime'
import {errorLines} from './render/colour'

/**
 * Every aivault command: `--json` (and `-v/--verbose`, kept for compatibility) prints the
 * value `run()` returns as JSON; errors become one `Error:` line (+ `Hint:`) on stderr, or
 * `{"error":{"code","message"}}` on stdout in JSON mode, with the SPEC §0 exit codes.
 */
export abstract class AivaultCommand extends Command {
  static enableJsonFlag = true

  static baseFlags = {
    verbose: Flags.boolean({char: 'v', description: 'Print the JSON result (same as --json).', helpGroup: 'GLOBAL'}),
  }

  public jsonEnabled(): boolean {
    if (super.jsonEnabled()) return true
    const end = this.argv.indexOf('--')
    const args = end === -1 ? this.argv : this.argv.slice(0, end)
    return args.includes('-v') || args.includes('--verbose')
  }

  /** A refused plugin provider is named on every command, once (SPEC §15 Plugins). */
  public async init(): Promise<void> {
    await super.init()
    for (const line of startupWarnings()) this.note(line)
  }

  /** Warnings go to stderr in both modes: JSON on stdout stays one parseable value. */
  protected note(message: string): void {
    process.stderr.write(`Warning: ${message}\n`)
  }

  protected async catch(error: Error & {oclif?: {exit?: number}}): Promise<never> {
    const usage = {command: `${this.config.bin} ${(this.id ?? '').replaceAll(':', ' ')}`.trim(), argv: this.argv, flags: this.ctor.flags ?? {}}
    const failure = toAivaultError(error, usage)
    if (process.env.DEBUG && error.stack) process.stderr.write(error.stack + '\n')
    if (this.jsonEnabled()) {
      process.stdout.write(errorJson(failure))
    } else {
      process.stderr.write(errorLines(failure.message, failure.hint))
    }
    throw new Errors.ExitError(failure.exitCode)
  }
}

interface MissingArg {
  name: string
  description?: string
}

interface Usage {
  command: string
  argv: string[]
  flags: Record<string, {char?: string}>
}

/** oclif's own parse errors (unknown or missing flags and arguments) are usage errors: exit 2. */
function toAivaultError(error: Error & {oclif?: {exit?: number}; args?: MissingArg[]}, usage: Usage): AivaultError {
  if (error instanceof AivaultError) return error
  if (error instanceof Errors.ExitError) throw error
  if (/^Missing \d+ required args?\b/.test(error.message) && Array.isArray(error.args)) return missingArgs(error.args, error.message, usage)
  // oclif's parse errors span lines ("The following error occurred:", the problem, "See more help").
  const message = (error.message || String(error))
    .split('\n')
    .map((line) => line.trim().replace(/^Error: /, ''))
    .filter((line) => line !== '' && !/^The following errors? occurred:?$/.test(line) && !/^See more help with --help$/.test(line))
    .join('; ')
  if (error.oclif?.exit === 2) {
    return new AivaultError('invalid_request', message, {exitCode: 2, hint: 'see --help for the accepted flags'})
  }
  return new AivaultError('invalid_request', message)
}

/**
 * oclif's "Missing 1 required arg:" lists each argument as a padded two-column table and adds a
 * note about multi-value flags; as one line that read as noise. Name the argument, and say
 * where it goes when a multi-value flag may have taken it.
 */
function missingArgs(args: MissingArg[], oclifMessage: string, {command, argv, flags}: Usage): AivaultError {
  const names = args.map((a) => `<${a.name}>`)
  const described = args.length === 1 && args[0].description ? ` (${args[0].description.replace(/\.$/, '')})` : ''
  const message = `missing ${names.join(' and ')}${described}`
  const multi = (/Note: (.+?) allows? multiple values/.exec(oclifMessage)?.[1] ?? '').split(', ').map((f) => f.replace(/^--/, ''))
  const given = multi.filter((name) => name && argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`) || (flags[name]?.char !== undefined && a.startsWith(`-${flags[name].char}`))))
  const where = given.length > 0 ? `; ${given.map((f) => `--${f}`).join(', ')} took it as one more value: put ${names.join(' ')} first, or end the flags with --` : ''
  return new AivaultError('invalid_request', message, {exitCode: 2, hint: `usage: "${command} ${names.join(' ')} [flags]"${where} (see "${command} --help")`})
}

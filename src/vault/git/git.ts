/**
 * Running the real `git` on the repository around a vault folder (never a library: the user's
 * git, with the user's configuration, decides what a work tree and a conflict are).
 */
import {spawnSync} from 'node:child_process'

export interface GitResult {
  status: number
  stdout: string
  stderr: string
}

/** Run git in `cwd`; undefined when git is not installed. */
export function runGit(cwd: string, args: string[]): GitResult | undefined {
  const result = spawnSync('git', args, {cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: {...process.env, GIT_TERMINAL_PROMPT: '0'}})
  if (result.error) {
    if ((result.error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw result.error
  }
  return {status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr}
}

/** The work tree's top folder when `dir` is inside one, else undefined (not a repository, or no git). */
export function workTreeTop(dir: string): string | undefined {
  const result = runGit(dir, ['rev-parse', '--show-toplevel'])
  return result && result.status === 0 ? result.stdout.trim() : undefined
}

/** A word for `sh`: kept as is when it is plainly safe, else single-quoted. */
export function shellWord(word: string): string {
  if (/^[A-Za-z0-9_./:@%+=,-]+$/.test(word)) return word
  return `'${word.replace(/'/g, `'\\''`)}'`
}

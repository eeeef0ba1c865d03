/**
 * Real git for the team-vault tests (SPEC §11): a bare origin in the temp folder (no network),
 * clones under umask 077 (git keeps no modes, so the vault's 0600/0700 come from the umask),
 * and the CLI run against one clone's vault folder with the shared keys folder.
 */
import * as assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import * as path from 'node:path'

import type {CliResult, TempVault} from './fixture'
import {parseJson} from './fixture'

export function gitEnv(tv: TempVault): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: tv.home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: path.join(tv.home, '.gitconfig-none'),
    GIT_AUTHOR_NAME: 'Vault Tester',
    GIT_AUTHOR_EMAIL: 'tester@example.invalid',
    GIT_COMMITTER_NAME: 'Vault Tester',
    GIT_COMMITTER_EMAIL: 'tester@example.invalid',
    GIT_MERGE_AUTOEDIT: 'no',
    GIT_TERMINAL_PROMPT: '0',
  }
}

/** git in `cwd` with umask 077; returns the whole result (a merge with conflicts exits 1). */
export function gitRun(tv: TempVault, cwd: string, args: string[]): CliResult {
  const result = spawnSync('sh', ['-c', 'umask 077 && exec git -c init.defaultBranch=main -c commit.gpgsign=false "$@"', 'git', ...args], {
    cwd,
    env: gitEnv(tv),
    encoding: 'utf8',
  })
  if (result.error) throw result.error
  return {status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr}
}

/** git that must succeed; returns stdout. */
export function git(tv: TempVault, cwd: string, args: string[]): string {
  const result = gitRun(tv, cwd, args)
  if (result.status !== 0) throw new Error(`git ${args.join(' ')} exited ${result.status}\n${result.stdout}\n${result.stderr}`)
  return result.stdout
}

export function commitAll(tv: TempVault, cwd: string, message: string): void {
  git(tv, cwd, ['add', '-A'])
  git(tv, cwd, ['commit', '-q', '-m', message])
}

/** Run a shell command line (a fix doctor printed) in `cwd`, under umask 077, with the CLI's environment. */
export function shell(tv: TempVault, cwd: string, line: string, env: NodeJS.ProcessEnv = {}): CliResult {
  const result = spawnSync('sh', ['-c', `umask 077 && ${line}`], {cwd, env: {...gitEnv(tv), ...tv.env, ...env}, encoding: 'utf8'})
  if (result.error) throw result.error
  return {status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr}
}

/** The CLI against another vault folder (a clone), with the same keys folder. */
export function inClone(tv: TempVault, root: string, env: NodeJS.ProcessEnv = {}) {
  const run = (args: string[], input?: string) => tv.run(args, {env: {...env, AIVAULT_DIR: root}, ...(input === undefined ? {} : {input})})
  return {
    root,
    run,
    runAsync: (args: string[]) => tv.runAsync(args, {env: {...env, AIVAULT_DIR: root}}),
    ok(args: string[], input?: string): string {
      const result = run(args, input)
      assert.equal(result.status, 0, `aivault ${args.join(' ')} in ${root}\n${result.stdout}\n${result.stderr}`)
      return result.stdout
    },
    json(args: string[], input?: string): any {
      const result = run([...args, '--json'], input)
      assert.equal(result.status, 0, `aivault ${args.join(' ')} --json in ${root}\n${result.stdout}\n${result.stderr}`)
      return parseJson(result)
    },
  }
}

export type Clone = ReturnType<typeof inClone>

/**
 * A vault (file provider) committed and pushed to a bare origin, and two clones of it, A and B,
 * sharing the one key file (AIVAULT_KEYS_DIR). `init` is the command that creates the vault,
 * `env` what the clones' CLI runs with, and `setup` runs in the first vault before it is committed.
 */
export function teamOfTwo(
  tv: TempVault,
  options: {init?: string[]; env?: NodeJS.ProcessEnv; setup?: (root: string) => void} = {},
): {origin: string; a: Clone; b: Clone} {
  tv.ok(options.init ?? ['init'])
  const origin = path.join(tv.base, 'origin.git')
  git(tv, tv.base, ['init', '-q', '--bare', origin])
  git(tv, tv.root, ['init', '-q'])
  options.setup?.(tv.root)
  commitAll(tv, tv.root, 'new vault')
  git(tv, tv.root, ['remote', 'add', 'origin', origin])
  git(tv, tv.root, ['push', '-q', 'origin', 'HEAD:main'])
  const clones = ['clone-a', 'clone-b'].map((name) => {
    const root = path.join(tv.base, name)
    git(tv, tv.base, ['clone', '-q', '--branch', 'main', origin, root])
    return inClone(tv, root, options.env)
  })
  return {origin, a: clones[0], b: clones[1]}
}

/**
 * Shared by the recipients end-to-end tests: three identities (alice, bob, carol) as three
 * AIVAULT_IDENTITY files in one temp base, each member working in a vault folder of their own
 * (a git clone, usually), and the real `git` binary with a bare repository as origin.
 */
import * as assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import * as path from 'node:path'

import type {CliResult, TempVault} from './fixture'
import {parseJson} from './fixture'
import {gitEnv} from './git-helpers'

export const MEMBERS = ['alice', 'bob', 'carol'] as const
export type MemberName = (typeof MEMBERS)[number]

export interface Member {
  name: MemberName
  identity: string
  publicKey: string
  fingerprint: string
  /** The vault folder this member works in. */
  root: string
  env: NodeJS.ProcessEnv
  run(args: string[], options?: {input?: string; env?: NodeJS.ProcessEnv}): CliResult
  runAsync(args: string[], options?: {input?: string; env?: NodeJS.ProcessEnv}): Promise<CliResult>
  ok(args: string[], input?: string): string
  json(args: string[], input?: string): any
}

/** One member: their identity file is made with `identity create`; `root` is where they will work. */
export function member(tv: TempVault, name: MemberName, root: string, extraEnv: NodeJS.ProcessEnv = {}): Member {
  const identity = path.join(tv.base, 'identities', `${name}.key`)
  const env = {AIVAULT_DIR: root, AIVAULT_IDENTITY: identity, ...extraEnv}
  const run = (args: string[], options: {input?: string; env?: NodeJS.ProcessEnv} = {}) => tv.run(args, {env: {...env, ...options.env}, input: options.input})
  const created = tv.run(['identity', 'create', '--json'], {env})
  assert.equal(created.status, 0, created.stdout + created.stderr)
  const {publicKey, fingerprint} = parseJson(created)
  return {
    name, identity, publicKey, fingerprint, root, env, run,
    runAsync: (args, options = {}) => tv.runAsync(args, {env: {...env, ...options.env}, input: options.input}),
    ok(args, input) {
      const result = run(args, {input})
      assert.equal(result.status, 0, `${name}: aivault ${args.join(' ')}\n${result.stdout}\n${result.stderr}`)
      return result.stdout
    },
    json(args, input) {
      const result = run([...args, '--json'], {input})
      assert.equal(result.status, 0, `${name}: aivault ${args.join(' ')} --json\n${result.stdout}\n${result.stderr}`)
      return parseJson(result)
    },
  }
}


/** git in `cwd` with umask 077, so a checkout writes the 0600/0700 modes a vault wants. */
export function git(tv: TempVault, cwd: string, args: string[]): string {
  const result = spawnSync('sh', ['-c', 'umask 077 && exec git -c init.defaultBranch=main -c commit.gpgsign=false "$@"', 'git', ...args], {cwd, env: gitEnv(tv), encoding: 'utf8'})
  if (result.error) throw result.error
  if (result.status !== 0) throw new Error(`git ${args.join(' ')} exited ${result.status}\n${result.stdout}\n${result.stderr}`)
  return result.stdout
}

/** Commit everything in the clone and push it to origin's main. */
export function push(tv: TempVault, root: string, message: string): void {
  git(tv, root, ['add', '-A'])
  git(tv, root, ['commit', '-q', '-m', message])
  git(tv, root, ['push', '-q', 'origin', 'HEAD:main'])
}

export function pull(tv: TempVault, root: string): void {
  git(tv, root, ['pull', '-q', '--no-rebase', '--no-edit', 'origin', 'main'])
}

/** A bare origin in the temp base, seeded from `root` (a vault folder just created); returns its path. */
export function publish(tv: TempVault, root: string): string {
  const origin = path.join(tv.base, 'origin.git')
  git(tv, tv.base, ['init', '-q', '--bare', origin])
  git(tv, root, ['init', '-q'])
  git(tv, root, ['remote', 'add', 'origin', origin])
  push(tv, root, 'new team vault')
  return origin
}

export function clone(tv: TempVault, origin: string, root: string): void {
  git(tv, tv.base, ['clone', '-q', '--branch', 'main', origin, root])
}

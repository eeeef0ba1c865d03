/**
 * Shared set-up for the plugin end-to-end suites (test/e2e/plugins-*.test.ts): a testing vault
 * whose plugin data directory lives in its own temp folder, the fixture plugins under
 * test/fixtures/plugins/, and aivaultd started for that vault.
 */
import * as assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {REPO_ROOT, TempVault, killDaemonsUnder, parseJson} from './fixture'

export const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'plugins')
export const EXAMPLE_PLUGIN = path.join(REPO_ROOT, 'plugins', 'aivault-plugin-example')

/** A fixture plugin's folder in the repository (for plugins no test edits). */
export function fixture(name: string): string {
  return path.join(FIXTURES, name)
}

/** A testing vault (dev overrides allowed) with AIVAULT_DATA_DIR=<base>/data: no plugin from the real home leaks in. */
export function pluginVault(): TempVault {
  const tv = new TempVault()
  tv.env.AIVAULT_DATA_DIR = path.join(tv.base, 'data')
  tv.env.AIVAULTD_IDLE_EXIT_MS = '300000'
  tv.ok(['init', '--testing'])
  return tv
}

/** A copy of a fixture plugin under the vault's temp base, for tests that edit its files. */
export function copyFixture(tv: TempVault, name: string): string {
  const dest = path.join(tv.base, 'plugin-copies', name)
  fs.cpSync(fixture(name), dest, {recursive: true})
  return dest
}

/** The `Warning: ...` lines of a run's stderr. */
export function warnings(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('Warning: '))
}

/** `aivault plugins link <dir>` (exit 0 expected). */
export function link(tv: TempVault, dir: string, extra: string[] = []): void {
  tv.ok(['plugins', 'link', dir, ...extra])
}

/** Start (or restart) aivaultd for the vault and return its socket; later CLI runs use it (AIVAULTD_DISABLE is dropped). */
export async function startDaemon(tv: TempVault, env: Record<string, string>): Promise<string> {
  delete tv.env.AIVAULTD_DISABLE
  const started = await tv.runAsync(['daemon', 'restart', '--json'], {env})
  assert.equal(started.status, 0, started.stdout + started.stderr)
  return parseJson<{socket: string}>(started).socket
}

/** Stop aivaultd (and SIGKILL any left for this vault). */
export async function stopDaemons(tv: TempVault, env: Record<string, string>): Promise<void> {
  await tv.runAsync(['daemon', 'stop'], {env})
  await killDaemonsUnder(tv.base)
}

/** Every key anywhere in a parsed JSON value (for "this field is gone" checks). */
export function keysIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysIn)
  if (value === null || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([key, field]) => [key, ...keysIn(field)])
}

/**
 * The fast path of `secrets list` and `capability list` (src/cli/fast/fast-path.ts) prints
 * exactly what the full CLI prints, byte for byte and with the same exit code, in every state a
 * listing can meet; it takes the command only when it may (no oclif loaded), and steps aside
 * for flags it does not read and for plugins with oclif hooks.
 */
import * as assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {CLI, TempVault} from './fixture'
import {fixture, link, pluginVault} from './plugins-helpers'

const LINES = [
  ['secrets', 'list'],
  ['secrets', 'list', '--json'],
  ['capability', 'list'],
  ['capability', 'list', '-v'],
]

interface Run {
  status: number
  stdout: string
  stderr: string
  /** Whether the run loaded the oclif bundle (dist/aivault.js). */
  oclif: boolean
}

/** Run the CLI, noting at exit whether the oclif bundle was loaded. */
function run(tv: TempVault, args: string[], env: Record<string, string> = {}): Run {
  const marker = path.join(tv.base, 'loaded.txt')
  const hook = path.join(tv.base, 'note-loaded.js')
  fs.writeFileSync(hook, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(marker)}, Object.keys(require.cache).join('\\n')))\n`)
  const result = spawnSync(process.execPath, ['-r', hook, CLI, ...args], {env: {...tv.env, ...env}, cwd: tv.base, encoding: 'utf8'})
  const loaded = fs.readFileSync(marker, 'utf8')
  return {status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr, oclif: loaded.includes(`${path.sep}dist${path.sep}aivault.js`)}
}

/** Every listing line, fast and full: the same output, and the fast one without oclif. */
function assertSame(tv: TempVault, what: string, expectFast = true): void {
  for (const args of LINES) {
    const fast = run(tv, args)
    const full = run(tv, args, {AIVAULT_FAST_PATH: '0'})
    const label = `${what}: aivault ${args.join(' ')}`
    assert.equal(full.oclif, true, `${label}: AIVAULT_FAST_PATH=0 runs the full CLI`)
    assert.equal(fast.oclif, !expectFast, `${label}: ${expectFast ? 'answered without' : 'handed to'} oclif`)
    assert.deepEqual({status: fast.status, stdout: fast.stdout, stderr: fast.stderr}, {status: full.status, stdout: full.stdout, stderr: full.stderr}, label)
  }
}

describe('e2e: the fast path of secrets list and capability list', function () {
  this.timeout(120_000)

  it('answers like the full CLI with no vault, an empty vault and a vault with secrets', () => {
    const tv = new TempVault()
    try {
      assertSame(tv, 'no vault')
      tv.ok(['init', '--testing'])
      assertSame(tv, 'empty vault')
      tv.createSecret('OPENAI_API_KEY', 'sk-fast-path-test-0123456789')
      tv.createSecret('PLAIN_TOKEN', 'plain-value', ['--scope', 'workspace', '--workspace-id', 'team'])
      assertSame(tv, 'two secrets')
      assert.match(run(tv, ['capability', 'list']).stdout, /openai\/models/)
    } finally {
      tv.dispose()
    }
  })

  it('answers like the full CLI when a record is unreadable (a warning) and vault.yaml is broken (an error)', () => {
    const tv = new TempVault()
    try {
      tv.ok(['init', '--testing'])
      tv.createSecret('GOOD_ONE', 'value-1')
      fs.writeFileSync(path.join(tv.root, 'secrets', 'broken.yaml'), 'id: [unclosed\n')
      assertSame(tv, 'unreadable record')
      assert.match(run(tv, ['secrets', 'list']).stderr, /^Warning: skipped secrets\/broken\.yaml/m)
      fs.writeFileSync(path.join(tv.root, 'vault.yaml'), 'not: [valid\n')
      assertSame(tv, 'broken vault.yaml')
    } finally {
      tv.dispose()
    }
  })

  it("prints a refused plugin's warnings like every command", () => {
    const tv = pluginVault()
    try {
      link(tv, fixture('claims-openai'), ['--force'])
      assertSame(tv, 'a refused plugin provider')
      assert.match(run(tv, ['capability', 'list']).stderr, /^Warning: plugin aivault-test-claims-openai/m)
    } finally {
      tv.dispose()
    }
  })

  it('steps aside for a plugin with oclif hooks, for flags it does not read, and for DEBUG', () => {
    const tv = pluginVault()
    try {
      link(tv, fixture('init-hook'))
      assertSame(tv, 'a plugin with an init hook', false)
      assert.match(run(tv, ['secrets', 'list']).stderr, /init hook of aivault-test-init-hook ran/)
      tv.ok(['plugins', 'uninstall', 'aivault-test-init-hook'])
      assert.equal(run(tv, ['secrets', 'list']).oclif, false)
      assert.equal(run(tv, ['secrets', 'list', '--scope', 'global']).oclif, true)
      assert.equal(run(tv, ['capability', 'list', '--provider', 'openai']).oclif, true)
      assert.equal(run(tv, ['secrets', 'list', '--json', '-v']).oclif, true)
      assert.equal(run(tv, ['secrets', 'list'], {DEBUG: 'x'}).oclif, true)
    } finally {
      tv.dispose()
    }
  })
})

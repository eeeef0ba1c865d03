/**
 * The layer rules of `npm run lint` (.dependency-cruiser.cjs, docs/architecture.md): each rule
 * catches a forbidden import in a small fixture tree, and the real src/ tree passes.
 */
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

const repo = path.resolve(__dirname, '..', '..')
const config = path.join(repo, '.dependency-cruiser.cjs')
const depcruise = path.join(repo, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs')

interface Violation {
  rule: {name: string}
  from: string
  to: string
}

/** Run depcruise on `src` under `cwd`; the rule names and ends of every violation. */
function violations(cwd: string): Violation[] {
  let out: string
  try {
    out = execFileSync(process.execPath, [depcruise, 'src', '--config', config, '--output-type', 'json'], {cwd, encoding: 'utf8'})
  } catch (error) {
    // depcruise exits non-zero when it finds errors; the report is still on stdout.
    out = (error as {stdout: string}).stdout
  }
  return (JSON.parse(out) as {summary: {violations: Violation[]}}).summary.violations
}

/** A fixture tree with one well-behaved module per layer, plus `extra` files; its violations. */
function fixtureViolations(extra: Record<string, string>): Violation[] {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-layers-'))
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), {recursive: true})
    fs.writeFileSync(path.join(root, file), text)
  }
  try {
    write('tsconfig.json', JSON.stringify({compilerOptions: {module: 'commonjs', moduleResolution: 'node', strict: true}, include: ['src/**/*.ts']}))
    write('src/vault/vault.ts', 'export class Vault {}\n')
    write('src/broker/pipeline.ts', "import {Vault} from '../vault/vault'\nexport const invoke = (v: Vault) => v\n")
    write('src/cli/flags.ts', 'export const flags = {}\n')
    write('src/render/text.ts', "import type {Vault} from '../vault/vault'\nexport const show = (v: Vault) => String(v)\n")
    write('src/commands/invoke.ts', "import {invoke} from '../broker/pipeline'\nimport {flags} from '../cli/flags'\nimport {show} from '../render/text'\nexport default [invoke, flags, show]\n")
    for (const [file, text] of Object.entries(extra)) write(file, text)
    return violations(root)
  } finally {
    fs.rmSync(root, {recursive: true, force: true})
  }
}

const described = (found: Violation[]) => found.map((v) => `${v.rule.name} ${v.from} -> ${v.to}`).sort()

describe('lint: layer rules (dependency-cruiser)', () => {
  /** One leak per rule, in one fixture tree (depcruise takes seconds to start). */
  const LEAKS: Record<string, string> = {
    'src/vault/a.ts': "import {b} from './b'\nexport const a = () => b\n",
    'src/vault/b.ts': "import {a} from './a'\nexport const b = () => a\n",
    'src/vault/leak.ts': "import {invoke} from '../broker/pipeline'\nimport {flags} from '../cli/flags'\nexport const leak = [invoke, flags]\n",
    'src/broker/leak.ts': "import {show} from '../render/text'\nimport {flags} from '../cli/flags'\nimport * as fs from 'node:fs'\nimport {readFileSync} from 'fs'\nexport const leak = [show, flags, fs, readFileSync]\n",
    'src/render/leak.ts': "import {Vault} from '../vault/vault'\nexport const make = () => new Vault()\n",
    'src/cli/leak.ts': "import run from '../commands/invoke'\nexport const leak = run\n",
    'src/plugins/leak.ts': "import {invoke} from '../broker/pipeline'\nimport {Vault} from '../vault/vault'\nexport const leak = [invoke, new Vault()]\n",
    'src/mcp/leak.ts': "import {flags} from '../cli/flags'\nexport const leak = flags\n",
  }
  let leaky: string[]

  before(() => {
    leaky = described(fixtureViolations(LEAKS))
  })

  const ofRule = (rule: string) => [...new Set(leaky.filter((v) => v.startsWith(`${rule} `)))]

  it('passes a fixture tree that keeps the layers', () => {
    assert.deepEqual(described(fixtureViolations({})), [])
  })

  it('catches a cycle', () => {
    assert.ok(ofRule('no-cycles').some((v) => v.includes('src/vault/a.ts') || v.includes('src/vault/b.ts')), leaky.join('\n'))
    assert.ok(ofRule('no-cycles').every((v) => /src\/vault\/[ab]\.ts/.test(v)), leaky.join('\n'))
  })

  it('catches src/vault importing src/broker or src/cli', () => {
    assert.deepEqual(ofRule('vault-stays-below'), ['vault-stays-below src/vault/leak.ts -> src/broker/pipeline.ts', 'vault-stays-below src/vault/leak.ts -> src/cli/flags.ts'])
  })

  it('catches src/broker importing src/render or src/cli', () => {
    assert.deepEqual(ofRule('broker-not-ui'), ['broker-not-ui src/broker/leak.ts -> src/cli/flags.ts', 'broker-not-ui src/broker/leak.ts -> src/render/text.ts'])
  })

  it('keeps src/broker off the file system (it asks src/vault)', () => {
    assert.deepEqual(ofRule('broker-no-files'), ['broker-no-files src/broker/leak.ts -> fs'])
  })

  it('lets src/render import types only', () => {
    assert.deepEqual(ofRule('render-types-only'), ['render-types-only src/render/leak.ts -> src/vault/vault.ts'])
  })

  it('keeps src/plugins below the broker, and off the vault except for types', () => {
    assert.deepEqual(ofRule('plugins-below-broker'), ['plugins-below-broker src/plugins/leak.ts -> src/broker/pipeline.ts'])
    assert.deepEqual(ofRule('plugins-vault-types-only'), ['plugins-vault-types-only src/plugins/leak.ts -> src/vault/vault.ts'])
  })

  it('keeps src/mcp below the entry points that wire it', () => {
    assert.deepEqual(ofRule('mcp-below-entry-points'), ['mcp-below-entry-points src/mcp/leak.ts -> src/cli/flags.ts'])
  })

  it('catches any module importing a command', () => {
    assert.deepEqual(ofRule('nothing-imports-commands'), ['nothing-imports-commands src/cli/leak.ts -> src/commands/invoke.ts'])
  })

  it('reports nothing else in the leaky tree', () => {
    const rules = ['no-cycles', 'vault-stays-below', 'broker-not-ui', 'broker-no-files', 'render-types-only', 'plugins-below-broker', 'plugins-vault-types-only', 'mcp-below-entry-points', 'nothing-imports-commands']
    assert.deepEqual(leaky.filter((v) => !rules.some((rule) => v.startsWith(`${rule} `))), [])
  })

  it('passes the real src/ tree', () => {
    assert.deepEqual(described(violations(repo)), [])
  })
})

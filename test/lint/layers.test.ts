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

describe('lint: layer rules (dependency-cruiser)', () => {
  let root: string

  function write(file: string, text: string): void {
    fs.mkdirSync(path.dirname(path.join(root, file)), {recursive: true})
    fs.writeFileSync(path.join(root, file), text)
  }

  /** A fixture tree with one well-behaved module per layer, plus `extra` files. */
  function tree(extra: Record<string, string>): Violation[] {
    write('tsconfig.json', JSON.stringify({compilerOptions: {module: 'commonjs', moduleResolution: 'node', strict: true}, include: ['src/**/*.ts']}))
    write('src/vault/vault.ts', 'export class Vault {}\n')
    write('src/broker/pipeline.ts', "import {Vault} from '../vault/vault'\nexport const invoke = (v: Vault) => v\n")
    write('src/cli/flags.ts', "export const flags = {}\n")
    write('src/render/text.ts', "import type {Vault} from '../vault/vault'\nexport const show = (v: Vault) => String(v)\n")
    write('src/commands/invoke.ts', "import {invoke} from '../broker/pipeline'\nimport {flags} from '../cli/flags'\nimport {show} from '../render/text'\nexport default [invoke, flags, show]\n")
    for (const [file, text] of Object.entries(extra)) write(file, text)
    return violations(root)
  }

  const ruleNames = (found: Violation[]) => found.map((v) => `${v.rule.name} ${v.from} -> ${v.to}`).sort()

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-layers-'))
  })

  afterEach(() => {
    fs.rmSync(root, {recursive: true, force: true})
  })

  it('passes a tree that keeps the layers', () => {
    assert.deepEqual(ruleNames(tree({})), [])
  })

  it('catches a cycle', () => {
    const found = tree({'src/vault/a.ts': "import {b} from './b'\nexport const a = () => b\n", 'src/vault/b.ts': "import {a} from './a'\nexport const b = () => a\n"})
    assert.deepEqual([...new Set(found.map((v) => v.rule.name))], ['no-cycles'])
  })

  for (const target of ['broker/pipeline', 'cli/flags', 'commands/invoke']) {
    it(`catches src/vault importing src/${target}`, () => {
      const found = tree({'src/vault/leak.ts': `import * as up from '../${target}'\nexport const leak = up\n`})
      assert.ok(ruleNames(found).includes(`vault-stays-below src/vault/leak.ts -> src/${target}.ts`), ruleNames(found).join('\n'))
    })
  }

  it('catches src/broker importing src/render or src/cli', () => {
    const found = tree({'src/broker/leak.ts': "import {show} from '../render/text'\nimport {flags} from '../cli/flags'\nexport const leak = [show, flags]\n"})
    assert.deepEqual(ruleNames(found), ['broker-not-ui src/broker/leak.ts -> src/cli/flags.ts', 'broker-not-ui src/broker/leak.ts -> src/render/text.ts'])
  })

  it('keeps src/broker off the file system (it asks src/vault)', () => {
    const found = tree({'src/broker/leak.ts': "import * as fs from 'node:fs'\nimport {readFileSync} from 'fs'\nexport const leak = [fs, readFileSync]\n"})
    assert.deepEqual([...new Set(ruleNames(found))], ['broker-no-files src/broker/leak.ts -> fs'])
  })

  it('lets src/render import types only', () => {
    const found = tree({'src/render/leak.ts': "import {Vault} from '../vault/vault'\nexport const make = () => new Vault()\n"})
    assert.deepEqual(ruleNames(found), ['render-types-only src/render/leak.ts -> src/vault/vault.ts'])
  })

  it('catches any module importing a command', () => {
    const found = tree({'src/cli/leak.ts': "import run from '../commands/invoke'\nexport const leak = run\n"})
    assert.deepEqual(ruleNames(found), ['nothing-imports-commands src/cli/leak.ts -> src/commands/invoke.ts'])
  })

  it('passes the real src/ tree', () => {
    assert.deepEqual(ruleNames(violations(repo)), [])
  })
})

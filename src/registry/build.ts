/**
 * Build-time compilation of the registry (run by scripts/build-registry.js after tsc): parse
 * every registry/*.yaml, validate it against the schema with ajv, apply the rules of
 * ./rules, and write dist/registry.json plus a standalone validator module, which validates
 * plugin registries at run time (src/plugins/plugin-registry.ts, through compileProviderFiles).
 *
 * yaml and ajv are required inside the functions, only when they are used.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import {readRegistrySources, hashRegistrySources, registryDigest, SCHEMA_FILE} from './digest'
import {checkRegistry, formatIssue, issuesFromSchemaErrors, RegistryEntry, SchemaError} from './rules'
import {BuiltRegistry, ProviderDef, RegistryIssue} from './types'

type AjvModule = typeof import('ajv')
type ValidateFunction = import('ajv').ValidateFunction

export interface CompileOptions {
  /** How the folder is named in messages; default: its path relative to the working directory. */
  displayDir?: string
}

export interface CompileResult {
  /** Present when there are no issues. */
  registry?: BuiltRegistry
  issues: RegistryIssue[]
  /** Standalone CommonJS source of the schema validator (present when the schema compiled). */
  validatorSource?: string
}

function displayName(dir: string): string {
  const rel = path.relative(process.cwd(), dir)
  const shown = rel === '' ? '.' : rel.startsWith('..') || path.isAbsolute(rel) ? dir : rel
  return shown.split(path.sep).join('/')
}

function compileSchema(schema: object): {validate: ValidateFunction; source: string} {
  const {default: Ajv} = require('ajv') as AjvModule
  const standaloneCode = (require('ajv/dist/standalone') as typeof import('ajv/dist/standalone')).default
  const ajv = new Ajv({allErrors: true, strict: true, code: {source: true}})
  const validate = ajv.compile(schema)
  return {validate, source: standaloneCode(ajv, validate)}
}

/** Parses one YAML document (duplicate keys are errors); YAML errors become issues of `file`. */
function parseProviderYaml(text: string, file: string): {data?: unknown; issues: RegistryIssue[]} {
  const YAML = require('yaml') as typeof import('yaml')
  const doc = YAML.parseDocument(text, {uniqueKeys: true})
  const problems = [...doc.errors, ...doc.warnings]
  if (problems.length > 0) {
    return {issues: problems.map((e) => ({file, pointer: '', message: `invalid YAML: ${e.message.split('\n')[0]}`}))}
  }
  return {data: doc.toJS({maxAliasCount: 100}), issues: []}
}

/** A schema validator: ajv's compiled function at build time, its standalone module at run time. */
export type ProviderValidator = ((data: unknown) => boolean) & {errors?: unknown[] | null}

/**
 * Parse and validate provider YAML files (`name` is the file's base name, shown through
 * `label`), then apply the rules across them. Shared by the build and by plugin registries.
 */
export function compileProviderFiles(files: ReadonlyArray<{name: string; text: string}>, validate: ProviderValidator, label: (name: string) => string): {entries: RegistryEntry[]; issues: RegistryIssue[]} {
  const issues: RegistryIssue[] = []
  const entries: RegistryEntry[] = []
  for (const source of files) {
    const file = label(source.name)
    const parsed = parseProviderYaml(source.text, file)
    issues.push(...parsed.issues)
    if (parsed.data === undefined) continue
    if (!validate(parsed.data)) {
      issues.push(...issuesFromSchemaErrors(file, (validate.errors ?? []) as SchemaError[]))
      continue
    }
    entries.push({file, fileName: source.name, def: parsed.data as ProviderDef})
  }
  issues.push(...checkRegistry(entries))
  return {entries, issues}
}

/** Reads, validates and checks a registry folder. Nothing is written. */
export function compileRegistry(registryDir: string, options: CompileOptions = {}): CompileResult {
  const shownDir = options.displayDir ?? displayName(registryDir)
  const label = (name: string) => `${shownDir}/${name}`
  const sources = readRegistrySources(registryDir)
  const schemaSource = sources.find((s) => s.name === SCHEMA_FILE)
  if (!schemaSource) return {issues: [{file: label(SCHEMA_FILE), pointer: '', message: 'schema file is missing'}]}

  const {validate, source: validatorSource} = compileSchema(JSON.parse(schemaSource.bytes.toString('utf8')) as object)
  const yamlSources = sources.filter((s) => s !== schemaSource)
  const {entries, issues} = compileProviderFiles(
    yamlSources.map((s) => ({name: s.name, text: s.bytes.toString('utf8')})),
    validate,
    label,
  )
  if (yamlSources.length === 0) issues.unshift({file: label('*.yaml'), pointer: '', message: 'no provider files'})
  if (issues.length > 0) return {issues, validatorSource}

  const files = hashRegistrySources(sources)
  const providers = entries.map((e) => e.def).sort((a, b) => (a.provider < b.provider ? -1 : a.provider > b.provider ? 1 : 0))
  return {registry: {digest: registryDigest(files), files, providers}, issues, validatorSource}
}

function writeAtomic(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), {recursive: true})
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, content)
  fs.renameSync(tmp, file)
}

export interface BuildIo {
  out: (line: string) => void
  err: (line: string) => void
}

/**
 * The registry build: `[--registry DIR] [--out DIR]` (defaults `<root>/registry`, `<root>/dist`).
 * Writes `<out>/registry.json` and `<out>/registry/provider-validator.js`. Returns the exit code.
 */
export function runRegistryBuild(root: string, argv: readonly string[], io: BuildIo = {out: console.log, err: console.error}): number {
  let registryDir = path.join(root, 'registry')
  let outDir = path.join(root, 'dist')
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1]
    if ((argv[i] === '--registry' || argv[i] === '--out') && value !== undefined) {
      if (argv[i] === '--registry') registryDir = path.resolve(value)
      else outDir = path.resolve(value)
      i++
    } else {
      io.err(`build-registry: unknown argument ${argv[i]} (usage: build-registry [--registry DIR] [--out DIR])`)
      return 2
    }
  }
  const result = compileRegistry(registryDir)
  if (!result.registry || !result.validatorSource) {
    for (const issue of result.issues) io.err(formatIssue(issue))
    io.err(`build-registry: ${result.issues.length} problem${result.issues.length === 1 ? '' : 's'} in the registry`)
    return 1
  }
  const header = '// Generated by scripts/build-registry.js from registry/schema/registry-provider.schema.json. Do not edit.\n'
  writeAtomic(path.join(outDir, 'registry', 'provider-validator.js'), header + result.validatorSource + '\n')
  // Compact: every command that lists or invokes reads and parses it (half the size of the indented form).
  writeAtomic(path.join(outDir, 'registry.json'), JSON.stringify(result.registry) + '\n')
  const capabilities = result.registry.providers.reduce((n, p) => n + p.capabilities.length, 0)
  io.out(`registry: ${result.registry.providers.length} providers, ${capabilities} capabilities, digest ${result.registry.digest.slice(0, 12)}`)
  return 0
}

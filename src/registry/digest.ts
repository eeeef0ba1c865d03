/**
 * The registry digest: one sha256 over the sources of the built-in registry, computed the same
 * way by the build (scripts/build-registry.js) and by verifyBuiltinRegistry at run time.
 *
 * Sources are every `registry/*.yaml` plus `registry/schema/registry-provider.schema.json`,
 * named by their path relative to `registry/` with `/` separators. Each file is hashed on its
 * own (sha256 of its bytes, hex); the digest is the sha256 of the manifest made of one line
 * `<file sha256>  <name>\n` per file, sorted by name (code-unit order). Only bytes are read:
 * no YAML parsing.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

export const SCHEMA_FILE = 'schema/registry-provider.schema.json'

export interface RegistrySource {
  /** Path relative to the registry folder, `/`-separated: `openai.yaml`, `schema/...json`. */
  name: string
  bytes: Buffer
}

function sha256Hex(data: string | Buffer): string {
  // node:crypto is required here, not at the top: most commands never hash the registry.
  return (require('node:crypto') as typeof import('node:crypto')).createHash('sha256').update(data).digest('hex')
}

/** Reads the digest's source files that exist, sorted by name. A missing schema is simply absent. */
export function readRegistrySources(registryDir: string): RegistrySource[] {
  const names = fs
    .readdirSync(registryDir, {withFileTypes: true})
    .filter((entry) => entry.name.endsWith('.yaml') && (entry.isFile() || entry.isSymbolicLink()))
    .map((entry) => entry.name)
  if (fs.existsSync(path.join(registryDir, ...SCHEMA_FILE.split('/')))) names.push(SCHEMA_FILE)
  return names.sort().map((name) => ({name, bytes: fs.readFileSync(path.join(registryDir, ...name.split('/')))}))
}

/** sha256 of each source, keyed by name. */
export function hashRegistrySources(sources: readonly RegistrySource[]): Record<string, string> {
  const files: Record<string, string> = {}
  for (const source of sources) files[source.name] = sha256Hex(source.bytes)
  return files
}

/** The registry digest over per-file hashes (see the module comment). */
export function registryDigest(files: Record<string, string>): string {
  const manifest = Object.keys(files)
    .sort()
    .map((name) => `${files[name]}  ${name}\n`)
    .join('')
  return sha256Hex(manifest)
}

/** Per-file hashes and the digest of a registry folder. */
export function computeRegistryDigest(registryDir: string): {digest: string; files: Record<string, string>} {
  const files = hashRegistrySources(readRegistrySources(registryDir))
  return {digest: registryDigest(files), files}
}

/** Names that differ between two per-file hash maps, each with what happened to it. */
export function diffRegistryFiles(
  expected: Record<string, string>,
  actual: Record<string, string>,
): Array<{name: string; change: 'changed' | 'added' | 'removed'}> {
  const names = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort()
  const out: Array<{name: string; change: 'changed' | 'added' | 'removed'}> = []
  for (const name of names) {
    if (!Object.hasOwn(actual, name)) out.push({name, change: 'removed'})
    else if (!Object.hasOwn(expected, name)) out.push({name, change: 'added'})
    else if (expected[name] !== actual[name]) out.push({name, change: 'changed'})
  }
  return out
}

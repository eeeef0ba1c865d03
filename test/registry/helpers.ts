import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

export const ROOT = path.join(__dirname, '..', '..')
export const REGISTRY_DIR = path.join(ROOT, 'registry')
export const FIXTURES = path.join(__dirname, 'fixtures')

const tempDirs: string[] = []

export function tempDir(prefix = 'aivault-registry-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  tempDirs.push(dir)
  return dir
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, {recursive: true, force: true})
}

export function fixture(name: string): string {
  return fs.readFileSync(path.join(FIXTURES, name), 'utf8')
}

/** A registry folder in a temp dir: the real schema plus the given `<name>.yaml` texts. */
export function makeRegistry(files: Record<string, string>, options: {withBuiltins?: boolean} = {}): string {
  const dir = path.join(tempDir(), 'registry')
  fs.mkdirSync(path.join(dir, 'schema'), {recursive: true})
  fs.copyFileSync(path.join(REGISTRY_DIR, 'schema', 'registry-provider.schema.json'), path.join(dir, 'schema', 'registry-provider.schema.json'))
  if (options.withBuiltins) {
    for (const name of fs.readdirSync(REGISTRY_DIR).filter((n) => n.endsWith('.yaml'))) {
      fs.copyFileSync(path.join(REGISTRY_DIR, name), path.join(dir, name))
    }
  }
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text)
  return dir
}

/** A copy of the real registry/ folder in a temp dir. */
export function copyBuiltinRegistry(): string {
  const dir = path.join(tempDir(), 'registry')
  fs.cpSync(REGISTRY_DIR, dir, {recursive: true})
  return dir
}

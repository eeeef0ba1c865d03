import * as os from 'node:os'
import * as path from 'node:path'

/** Every location aivault reads or writes, resolved once from the environment (SPEC §1, §14). */
export interface VaultPaths {
  root: string
  vaultFile: string
  secretsDir: string
  credentialsDir: string
  capabilitiesDir: string
  policiesDir: string
  bindingsDir: string
  runDir: string
  auditDir: string
  lockFile: string
  cacheDir: string
  gitignore: string
  /** Key files live outside the vault folder so copying or committing it never carries the key. */
  keysDir: string
}

export function resolveVaultPaths(env: NodeJS.ProcessEnv = process.env): VaultPaths {
  const home = os.homedir()
  const root = path.resolve(env.AIVAULT_DIR || path.join(home, '.aivault', 'data', 'vault'))
  const keysDir = path.resolve(env.AIVAULT_KEYS_DIR || path.join(home, '.aivault', 'keys'))
  const runDir = path.join(root, 'run')
  return {
    root,
    vaultFile: path.join(root, 'vault.yaml'),
    secretsDir: path.join(root, 'secrets'),
    credentialsDir: path.join(root, 'credentials'),
    capabilitiesDir: path.join(root, 'capabilities'),
    policiesDir: path.join(root, 'policies'),
    bindingsDir: path.join(root, 'bindings'),
    runDir,
    auditDir: path.join(root, 'audit'),
    lockFile: path.join(runDir, 'lock'),
    cacheDir: path.join(runDir, 'cache'),
    gitignore: path.join(root, '.gitignore'),
    keysDir,
  }
}

/** Default key file of a `file` vault: `<keys dir>/<vault id>.key`. */
export function defaultKeyFile(paths: VaultPaths, vaultId: string): string {
  return path.join(paths.keysDir, `${vaultId}.key`)
}

/** A path relative to the vault root, as error messages name records (SPEC §15). */
export function relativeToVault(paths: VaultPaths, file: string): string {
  return path.relative(paths.root, file).split(path.sep).join('/')
}

/**
 * Record ids become file names. Credential ids may contain ':' (`openai:ws:team`), so every
 * character outside a safe set is percent-encoded; the mapping is reversible and stable.
 */
export function encodeRecordFileName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, (ch) => '%' + ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')) + '.yaml'
}

export function decodeRecordFileName(fileName: string): string {
  return decodeURIComponent(fileName.replace(/\.yaml$/, ''))
}

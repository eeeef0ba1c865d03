import {AivaultError} from '../../errors'
import type {ProviderCatalog} from '../catalog'
import {checkVaultFiles, listingOrRefusal} from './doctor-files'
import {checkNames, checkReferences, checkUnmerged, secretsInUse} from './doctor-merges'
import {checkHosts} from './doctor-hosts'
import {relativeToVault} from '../store/paths'
import {rotateMaster} from '../keys/rotate-master'
import type {DoctorFinding} from './doctor-finding'
import type {Vault} from '../vault'

export type {DoctorFinding} from './doctor-finding'

export interface DoctorReport {
  ok: boolean
  checked: {secrets: number; credentials: number; opened: number}
  findings: DoctorFinding[]
}

/**
 * Check what can go wrong with a vault on disk and, with `fix`, repair what is safe to repair:
 * permissions, leftover temp files and an interrupted rotate-master. Never decrypts more than
 * it needs to prove each record opens; never prints a value.
 */
export async function runDoctor(vault: Vault, options: {fix: boolean; onProgress?: (done: number, total: number) => void; catalog?: ProviderCatalog}): Promise<DoctorReport> {
  const findings: DoctorFinding[] = []
  const checked = {secrets: 0, credentials: 0, opened: 0}
  if (!vault.exists()) {
    findings.push({check: 'vault', problem: `no vault at ${vault.paths.root}; create one, or set AIVAULT_DIR to yours`, fixed: false, fix: 'aivault init'})
    return {ok: false, checked, findings}
  }
  const rel = (file: string) => relativeToVault(vault.paths, file)
  const add = (finding: DoctorFinding) => findings.push(finding)

  // Files and folders: links and special files, permissions, temp files, conflict markers.
  let keyFile: string | undefined
  try {
    keyFile = vault.keyFilePath()
  } catch {
    keyFile = undefined // an unreadable vault.yaml is reported below
  }
  findings.push(...checkVaultFiles(vault.paths.root, keyFile, options.fix))
  const explained = new Set(findings.filter((f) => f.check === 'conflicts').map((f) => f.file as string))
  findings.push(...checkUnmerged(vault.paths.root, explained))

  // Records: every secret parses and opens; every credential parses and points at real secrets.
  const secrets = listingOrRefusal(() => vault.secrets.list())
  const credentials = listingOrRefusal(() => vault.credentials.list())
  checked.secrets = secrets.records.length
  checked.credentials = credentials.records.length
  for (const problem of [...secrets.problems, ...credentials.problems]) {
    if (!findings.some((f) => f.file === problem.file && (f.check === 'conflicts' || f.check === 'links'))) add({check: 'records', file: problem.file, problem: problem.message, fixed: false, code: 'vault_tampered'})
  }
  // What a merge can leave even without conflicts: one name for two secrets, dangling references.
  const bindings = listingOrRefusal(() => vault.bindings.list()).records
  const listed = new Set(secrets.records.map((s) => s.id))
  // A conflicted record is explained by its conflict finding: what uses it is not dangling.
  const conflicted = new Set(findings.filter((f) => f.check === 'conflicts').map((f) => f.file))
  const unreadable = new Set(secrets.problems.map((p) => p.file))
  const secretState = (id: string) => {
    const file = vault.secrets.relativeFile(id)
    return listed.has(id) || conflicted.has(file) ? 'listed' : unreadable.has(file) ? 'unreadable' : 'missing'
  }
  const inUse = secretsInUse(credentials.records, bindings)
  findings.push(...checkNames(secrets.records, inUse, (id) => vault.secrets.relativeFile(id)))
  findings.push(...checkReferences(secretState, credentials.records, bindings, {credential: (id) => rel(vault.credentials.file(id)), binding: (id) => rel(vault.bindings.file(id))}))

  if (options.catalog) findings.push(...checkHosts(vault, options.catalog))

  try {
    vault.config()
  } catch (error) {
    if (!(error instanceof AivaultError)) throw error
    add({check: 'keys', file: 'vault.yaml', problem: error.message, fixed: false, code: error.code})
    return {ok: false, checked, findings}
  }
  try {
    let keyring = await vault.keyring()
    if (keyring.pending || keyring.previous) {
      if (options.fix) {
        await rotateMaster(vault)
        keyring = await vault.keyring()
      }
      add({check: 'rotation', problem: 'an interrupted rotate-master left two keys in use', fixed: options.fix})
    }
    for (const [index, meta] of secrets.records.entries()) {
      try {
        await vault.secrets.open(vault.secrets.read(meta.id), keyring, vault.config().vaultId)
        checked.opened++
      } catch (error) {
        if (!(error instanceof AivaultError)) throw error
        add({check: 'records', file: vault.secrets.relativeFile(meta.id), problem: error.message.replace(/^[^:]+\.yaml: /, ''), fixed: false, code: error.code})
      }
      options.onProgress?.(index + 1, secrets.records.length)
    }
  } catch (error) {
    if (!(error instanceof AivaultError)) throw error
    const locked = error.code === 'vault_locked'
    const file = error.message.startsWith('vault.yaml') ? 'vault.yaml' : undefined
    add({check: 'keys', file, problem: locked ? `records not opened: ${error.message}` : error.message, fixed: false, code: error.code, warning: locked})
  }

  const audit = vault.audit.verify()
  if (audit.break) add({check: 'audit', file: audit.break.file, problem: `line ${audit.break.line}: ${audit.break.reason}`, fixed: false})

  return {ok: findings.every((f) => f.fixed || f.warning), checked, findings}
}

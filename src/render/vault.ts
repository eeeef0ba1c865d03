import type {DoctorReport} from '../vault/doctor/doctor'
import type {GitSetupResult} from '../vault/git/git-setup'
import type {InitResult} from '../vault/init'
import type {RotateMasterResult} from '../vault/keys/rotate-master'
import type {VaultStatus} from '../vault/status'
import {plural} from './text'

export function renderInit(result: InitResult): string {
  const lines = [`Vault created at ${result.paths.root}`, `  vault id:     ${result.vaultId}`, `  key provider: ${result.provider}`, `  key id:       ${result.kekId}`]
  if (result.paths.keyFile) lines.push(`  key file:     ${result.paths.keyFile} (keep it safe; it is outside the vault folder on purpose)`)
  if (result.testing) lines.push('  testing:      yes (test overrides such as AIVAULT_DEV_RESOLVE are honoured)')
  if (result.locked) lines.push('The vault is locked until "aivault unlock".')
  return lines.join('\n')
}

export function renderStatus(status: VaultStatus): string {
  if (!status.initialized) {
    return [`No vault at ${status.paths.root}`, 'Create one with "aivault init" (or just "aivault secrets create ...").'].join('\n')
  }
  const lines = [
    `Vault:        ${status.paths.root}`,
    `Vault id:     ${status.vaultId}`,
    `Key provider: ${status.provider}${status.paths.keyFile ? ` (${status.paths.keyFile})` : ''}`,
    `Key id:       ${status.kekId}`,
    `Locked:       ${status.locked ? 'yes' : 'no'}`,
    `Testing:      ${status.testing ? 'yes' : 'no'}`,
    `Contents:     ${plural(status.counts.secrets, 'secret')}, ${plural(status.counts.credentials, 'credential')}, ${plural(status.counts.capabilities, 'capability', 'capabilities')}`,
    `Daemon:       ${status.daemon.running ? 'running' : 'not running'} (${status.daemon.socket})`,
  ]
  for (const file of status.permissionWarnings) lines.push(`Warning: ${file} has looser permissions than 0600/0700 (run "aivault doctor --fix")`)
  return lines.join('\n')
}

export function renderRotateMaster(result: RotateMasterResult): string {
  const lines = [
    `${result.resumed ? 'Finished an interrupted master key rotation' : 'Master key rotated'}: ${result.previousKekId} -> ${result.kekId}`,
    `Re-wrapped ${plural(result.rewrapped, 'data key')}; all ${plural(result.secrets, 'secret')} verified under the new key.`,
  ]
  if (result.provider === 'file' && result.keyLocation) lines.push(`New key stored in ${result.keyLocation}`)
  if (result.provider === 'env' && result.keyLocation) lines.push(`From now on set ${result.keyLocation} to the new key you passed with --new-key.`)
  return lines.join('\n')
}

export function renderDoctor(report: DoctorReport): string {
  const lines = [`Checked ${plural(report.checked.secrets, 'secret')} (${report.checked.opened} opened) and ${plural(report.checked.credentials, 'credential')}.`]
  for (const f of report.findings) {
    const state = f.fixed ? 'fixed' : f.warning ? 'note' : 'problem'
    lines.push(`${state}: [${f.check}]${f.file ? ` ${f.file}:` : ''} ${f.problem}`)
    if (f.fix && !f.fixed) lines.push(`  fix: ${f.fix}`)
  }
  const repairable = report.findings.some((f) => !f.fixed && ['permissions', 'temp-files', 'rotation'].includes(f.check))
  lines.push(report.ok ? 'No problems left.' : `${plural(report.findings.filter((f) => !f.fixed && !f.warning).length, 'problem')} left${repairable ? '; "aivault doctor --fix" repairs permissions, temp files and interrupted rotations' : ''}.`)
  return lines.join('\n')
}

export function renderGitSetup(result: GitSetupResult): string {
  const attributes = {
    created: 'created (commit it, so every clone marks records the same way)',
    updated: 'updated (commit it, so every clone marks records the same way)',
    unchanged: 'already set up',
  }[result.attributes]
  return [
    `Git diffs of the vault in ${result.repository} now show records readably.`,
    `  ${result.attributesFile}: ${attributes}`,
    `  git config diff.aivault.textconv: ${result.config === 'set' ? 'set' : 'already set'} (local to this clone: each member runs "aivault git setup" once)`,
  ].join('\n')
}

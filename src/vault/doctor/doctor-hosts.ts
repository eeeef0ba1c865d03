/**
 * Doctor's host checks (SPEC §4, §5, §6): where a credential or custom capability could send a
 * key. Registry credentials naming hosts outside the registry were edited on disk (the broker
 * ignores those hosts); custom capabilities must name valid hosts; a tenant host serves only
 * secrets sealed to it (tenant-binding.ts).
 */
import {AivaultError} from '../../errors'
import type {ProviderCatalog} from '../catalog'
import type {CredentialRecord} from '../store/credential-record'
import {secretIdOfRef} from '../store/credential-record'
import type {DoctorFinding} from './doctor-finding'
import {relativeToVault} from '../store/paths'
import type {SecretMeta} from '../store/secret-record'
import type {Vault} from '../vault'

export function checkHosts(vault: Vault, catalog: ProviderCatalog): DoctorFinding[] {
  const findings: DoctorFinding[] = []
  const secrets = new Map(vault.secrets.list().records.map((s) => [s.id, s]))
  for (const credential of vault.credentials.list().records) {
    const file = relativeToVault(vault.paths, vault.credentials.file(credential.id))
    for (const problem of credentialHostProblems(credential, catalog, secrets)) findings.push({check: 'hosts', file, fixed: false, ...problem})
  }
  let testing = false
  try {
    testing = vault.config().testing
  } catch (error) {
    if (!(error instanceof AivaultError)) throw error // an unreadable vault.yaml is reported by the key checks
  }
  for (const capability of vault.capabilities.list().records) {
    const file = relativeToVault(vault.paths, vault.capabilities.file(capability.id))
    for (const host of capability.allow.hosts) {
      const problem = catalog.capabilityHostProblem(capability.provider, host, testing)
      if (problem) findings.push({check: 'hosts', file, problem: `host ${host}: ${problem}; calls through it are refused`, fixed: false})
    }
  }
  return findings
}

function credentialHostProblems(credential: CredentialRecord, catalog: ProviderCatalog, secrets: Map<string, SecretMeta>): Array<{problem: string; code?: string}> {
  const provider = catalog.provider(credential.provider)
  if (!provider) return []
  const problems: Array<{problem: string; code?: string}> = []
  const {ignored, tenants} = provider.narrowHosts(credential.hosts)
  if (ignored.length > 0) {
    problems.push({
      problem: `names ${ignored.join(', ')}, not among provider ${provider.id}'s hosts (${provider.hosts.join(', ')}): the record was edited outside aivault; those hosts are ignored`,
      code: 'vault_tampered',
    })
  }
  if (tenants.length > 1) problems.push({problem: `names ${tenants.length} tenant hosts (${tenants.join(', ')}); a credential names one, so it serves nothing`})
  const tenant = tenants.length === 1 ? tenants[0] : undefined
  for (const ref of Object.values(credential.secretRefs)) {
    const secret = secrets.get(secretIdOfRef(ref) ?? '')
    if (!secret || secret.tenantHost === tenant) continue
    if (!secret.tenantHost) {
      problems.push({problem: `secret ${secret.name} is not bound to tenant host ${tenant}, so calls are refused; if that is its tenant, bind it with "aivault credential update ${credential.id} --host ${tenant}"`})
    } else {
      problems.push({problem: `secret ${secret.name} is bound to tenant host ${secret.tenantHost}, but this credential names ${tenant ?? 'none'}: calls are refused`, code: 'policy_violation'})
    }
  }
  return problems
}

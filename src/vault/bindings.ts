import type {Vault} from './vault'

/**
 * Remove every binding that points at one of `credentialIds` or `secretIds`; returns the removed
 * binding ids. A binding that does not parse is left for `doctor` to report.
 */
export async function removeBindingsFor(vault: Vault, credentialIds: string[], secretIds: string[] = []): Promise<string[]> {
  if (credentialIds.length === 0 && secretIds.length === 0) return []
  const removed: string[] = []
  for (const binding of vault.bindings.list().records) {
    const bySecret = binding.secretRef !== null && secretIds.some((id) => binding.secretRef === `vault:secret:${id}`)
    const byCredential = binding.credential !== null && credentialIds.includes(binding.credential)
    if (!bySecret && !byCredential) continue
    vault.bindings.remove(binding.id)
    await vault.audit.append('binding.remove', {bindingId: binding.id, credentialId: binding.credential, reason: bySecret ? 'secret deleted' : 'credential deleted'})
    removed.push(binding.id)
  }
  return removed.sort()
}

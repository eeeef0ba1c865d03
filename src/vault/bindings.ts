import * as path from 'node:path'

import {listRecordFiles, readFileIfExists, removeFileDurably} from './atomic-file'
import {decodeRecordFileName} from './paths'
import type {Vault} from './vault'
import {fromYaml} from './yaml-codec'

/**
 * Remove every binding (bindings/<id>.yaml) that points at one of `credentialIds`; returns
 * the removed binding ids. A binding that does not parse is left for `doctor` to report.
 */
export async function removeBindingsFor(vault: Vault, credentialIds: string[]): Promise<string[]> {
  if (credentialIds.length === 0) return []
  const removed: string[] = []
  for (const name of listRecordFiles(vault.paths.bindingsDir)) {
    const file = path.join(vault.paths.bindingsDir, name)
    let credential: unknown
    try {
      credential = (fromYaml(readFileIfExists(file) ?? '') as {credential?: unknown} | null)?.credential
    } catch {
      continue
    }
    if (typeof credential !== 'string' || !credentialIds.includes(credential)) continue
    const id = decodeRecordFileName(name)
    removeFileDurably(file)
    await vault.audit.append('binding.remove', {bindingId: id, credentialId: credential, reason: 'credential deleted'})
    removed.push(id)
  }
  return removed.sort()
}

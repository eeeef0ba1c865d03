import * as path from 'node:path'

import {ensureDir} from '../vault/store/atomic-file'
import {reuseListings} from '../vault/store/record-folder'
import {stopWatching, watchFolders} from '../vault/store/stat-cache'
import type {BrokerDeps} from './deps'
import {enableDnsCache} from './request/ssrf'
import {closePools, usePooledConnections} from './upstream/upstream-pool'

/**
 * aivaultd and `aivault serve` handle many calls in one process: keep upstream connections
 * open (undici pools), cache checked DNS answers for 30 s, remember record stat stamps until
 * the folder changes (inotify, or at most a second), reuse listings of unchanged folders and
 * commit audit events in groups at most every `auditGroupMs`.
 */
export function tuneForLongLived(deps: BrokerDeps, auditGroupMs: number): void {
  const {paths} = deps.vault
  reuseListings()
  usePooledConnections()
  enableDnsCache()
  deps.vault.audit.groupIntervalMs = auditGroupMs
  const tokens = path.join(paths.runDir, 'tokens')
  if (deps.vault.exists()) ensureDir(tokens)
  watchFolders(paths.root, [paths.secretsDir, paths.credentialsDir, paths.capabilitiesDir, paths.policiesDir, paths.bindingsDir, tokens])
}

/** Let go of kept connections and folder watches when a long-lived process stops. */
export async function releaseLongLived(): Promise<void> {
  stopWatching()
  await closePools()
}

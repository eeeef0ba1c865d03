import * as path from 'node:path'

import {longLivedMode} from '../run-mode'
import {ensureDir} from '../vault/store/atomic-file'
import {stopWatching, watchFolders} from '../vault/store/stat-cache'
import type {BrokerDeps} from './deps'
import {brokerDepsFromEnv} from './deps'
import {closePools} from './upstream/upstream-pool'

/**
 * The broker's dependencies for aivaultd and `aivault serve`, which handle many calls in one
 * process: made in the long-lived run mode (run-mode.ts: pooled connections, a DNS answer cache,
 * reused listings, audit events committed in groups at most every `auditGroupMs`), with the
 * vault's record folders watched so record stat stamps are remembered until a folder changes
 * (inotify, or at most a second). Call releaseLongLived when the process stops.
 */
export function longLivedDeps(env: NodeJS.ProcessEnv, auditGroupMs: number): BrokerDeps {
  const deps = brokerDepsFromEnv(env, longLivedMode(auditGroupMs))
  const {paths} = deps.vault
  const tokens = path.join(paths.runDir, 'tokens')
  if (deps.vault.exists()) ensureDir(tokens)
  watchFolders(paths.root, [paths.secretsDir, paths.credentialsDir, paths.capabilitiesDir, paths.policiesDir, paths.bindingsDir, tokens])
  return deps
}

/** Let go of kept connections and folder watches when a long-lived process stops. */
export async function releaseLongLived(): Promise<void> {
  stopWatching()
  await closePools()
}

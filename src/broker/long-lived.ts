import {reuseListings} from '../vault/record-folder'
import type {BrokerDeps} from './pipeline'
import {enableDnsCache} from './ssrf'
import {enableConnectionReuse} from './upstream'

/**
 * aivaultd and `aivault serve` handle many calls in one process: keep upstream connections
 * open, cache checked DNS answers for 30 s, reuse listings of unchanged record folders for up
 * to a second and commit audit events in groups.
 */
export function tuneForLongLived(deps: BrokerDeps): void {
  reuseListings()
  enableConnectionReuse()
  enableDnsCache()
  deps.vault.audit.groupCommit = true
}

/**
 * A daemon never silently serves a client whose test overrides differ from its own (SPEC §10,
 * §14). aivault's clients state their AIVAULT_DEV_* variables in every execute frame
 * (`testOverrides`); the daemon compares them with the ones it was started with and refuses a
 * difference with a `conflict` error whose hint is `aivault daemon restart`. It never restarts
 * itself: a restart would drop an unlocked passphrase vault's key under another client's feet.
 * A frame without `testOverrides` (a hand-written client) gets the daemon's own environment,
 * as before.
 */
import {readTestOverrides, TEST_OVERRIDE_VARIABLES} from '../broker/request/test-mode'
import {AivaultError} from '../errors'
import type {OverrideClaim} from './override-claim'
import {testOverridesOf} from './override-claim'

export {testOverridesOf}
export type {OverrideClaim}

function parseClaim(claimed: unknown): OverrideClaim {
  const invalid = () => new AivaultError('invalid_request', 'testOverrides must map AIVAULT_DEV_* variable names to strings')
  if (claimed === null || typeof claimed !== 'object' || Array.isArray(claimed)) throw invalid()
  for (const [name, value] of Object.entries(claimed)) {
    if (!(TEST_OVERRIDE_VARIABLES as readonly string[]).includes(name) || typeof value !== 'string') throw invalid()
  }
  return claimed as OverrideClaim
}

/**
 * Refuse a client whose stated overrides are not the daemon's. In a vault without
 * `testing: true` any stated override is the same `invalid_request` an in-process call gives.
 */
export function checkClientOverrides(daemon: OverrideClaim, claimed: unknown, testingVault: () => boolean): void {
  if (claimed === undefined) return
  const client = parseClaim(claimed)
  const names = Object.keys(client)
  if (names.length > 0 && !testingVault()) readTestOverrides(client as NodeJS.ProcessEnv, false)
  if (names.length === 0 && Object.keys(daemon).length === 0) return
  const differ = TEST_OVERRIDE_VARIABLES.filter((name) => daemon[name] !== client[name])
  if (differ.length === 0) return
  const how = (name: (typeof differ)[number]) =>
    daemon[name] === undefined ? 'set here, not in aivaultd' : client[name] === undefined ? 'set in aivaultd, not here' : 'a different value in aivaultd'
  throw new AivaultError('conflict', `aivaultd (pid ${process.pid}) was started with other test overrides than this command: ${differ.map((n) => `${n} (${how(n)})`).join(', ')}`, {
    hint: 'run "aivault daemon restart" in this environment (an unlocked vault must then be unlocked again), or set AIVAULTD_DISABLE=1 to run in this process',
  })
}

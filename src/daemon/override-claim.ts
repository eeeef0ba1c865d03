/**
 * What a client states of its test overrides in an execute frame (overrides.ts checks it). Kept
 * light: the thin invoke client loads it on every call.
 */
import * as path from 'node:path'

import {TEST_OVERRIDE_VARIABLES} from '../broker/request/test-override-variables'

/** The AIVAULT_DEV_* variables an environment sets, by name. */
export type OverrideClaim = Partial<Record<(typeof TEST_OVERRIDE_VARIABLES)[number], string>>

/** The test overrides `env` sets, as a client states them (the CA path made absolute). */
export function testOverridesOf(env: NodeJS.ProcessEnv): OverrideClaim {
  const out: OverrideClaim = {}
  for (const name of TEST_OVERRIDE_VARIABLES) {
    const value = env[name]
    if (value === undefined || value === '') continue
    out[name] = name === 'AIVAULT_DEV_CA_CERT_PATH' ? path.resolve(value) : value
  }
  return out
}

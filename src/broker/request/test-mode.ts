import * as net from 'node:net'

import {AivaultError} from '../../errors'
import {TEST_OVERRIDE_VARIABLES} from './test-override-variables'
import {readFileIfExists} from '../../vault/store/atomic-file'

/**
 * The AIVAULT_DEV_* test overrides (SPEC §14, §15). Honoured only in vaults created with
 * `init --testing`; in any other vault their presence is an error, so an agent that can set
 * environment variables still cannot redirect a real vault's traffic.
 */
export interface TestOverrides {
  /** host -> {address, port}: connect there, keeping the URL host, Host header and TLS name. */
  resolve: Map<string, {address: string; port: number}>
  caCert?: string
  allowNonDefaultPorts: boolean
  allowPrivateUpstreams: boolean
}

export {TEST_OVERRIDE_VARIABLES}

export const NO_OVERRIDES: TestOverrides = {resolve: new Map(), allowNonDefaultPorts: false, allowPrivateUpstreams: false}

export function readTestOverrides(env: NodeJS.ProcessEnv, testingVault: boolean): TestOverrides {
  const set = TEST_OVERRIDE_VARIABLES.filter((name) => env[name] !== undefined && env[name] !== '')
  if (set.length === 0) return NO_OVERRIDES
  if (!testingVault) {
    throw new AivaultError('invalid_request', `${set[0]} is only honoured in a vault created with "aivault init --testing"`, {
      hint: `unset ${set.join(', ')}`,
    })
  }
  const resolve = new Map<string, {address: string; port: number}>()
  for (const entry of (env.AIVAULT_DEV_RESOLVE ?? '').split(',').filter((e) => e.trim() !== '')) {
    const match = /^([^=]+)=(\[[0-9a-fA-F:.]+\]|[^:]+):(\d+)$/.exec(entry.trim())
    const address = match?.[2].replace(/^\[|\]$/g, '') ?? ''
    const port = Number(match?.[3])
    if (!match || net.isIP(address) === 0 || !(port >= 1 && port <= 65535)) {
      throw new AivaultError('invalid_request', `AIVAULT_DEV_RESOLVE entry ${JSON.stringify(entry)} is not host=ip:port (an IP address and a port 1-65535)`)
    }
    resolve.set(match[1].toLowerCase(), {address, port})
  }
  let caCert: string | undefined
  if (env.AIVAULT_DEV_CA_CERT_PATH) {
    // The broker touches no file itself: the vault reads the CA file, as it reads key files.
    try {
      caCert = readFileIfExists(env.AIVAULT_DEV_CA_CERT_PATH)
    } catch {
      caCert = undefined
    }
    if (caCert === undefined) throw new AivaultError('invalid_request', `AIVAULT_DEV_CA_CERT_PATH ${env.AIVAULT_DEV_CA_CERT_PATH} cannot be read`)
  }
  return {
    resolve,
    caCert,
    allowNonDefaultPorts: env.AIVAULT_DEV_ALLOW_NON_DEFAULT_PORTS === '1',
    allowPrivateUpstreams: env.AIVAULT_DEV_ALLOW_PRIVATE_UPSTREAMS === '1',
  }
}

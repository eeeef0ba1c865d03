/**
 * `--host` values as commands take them; malformed ones are usage errors (exit 2). Whether a
 * host suits the provider or the vault (registry patterns, IP literals) is the services' call.
 */
import {usageError} from '../errors'
import {isIpLiteral, isValidHost, isValidHostPattern, normalizeHost} from '../registry/host-pattern'

/**
 * Credential hosts: exact names, never wildcards; `host:port` only with
 * AIVAULT_DEV_ALLOW_NON_DEFAULT_PORTS=1 (the service then requires a testing vault).
 */
export function parseCredentialHosts(values: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const portsAllowed = env.AIVAULT_DEV_ALLOW_NON_DEFAULT_PORTS === '1'
  return values.map((host) => {
    if (host.includes('*')) throw usageError(`--host ${host}: wildcards are refused; name the exact host`)
    const withPort = /^(.+):(\d{1,5})$/.exec(host)
    if (withPort && !portsAllowed) throw usageError(`--host ${JSON.stringify(host)}: upstreams use port 443`, 'a non-default port needs a testing vault and AIVAULT_DEV_ALLOW_NON_DEFAULT_PORTS=1')
    const name = withPort ? withPort[1] : host
    if (!isValidHost(name) || (withPort && !(Number(withPort[2]) >= 1 && Number(withPort[2]) <= 65535))) throw usageError(`--host ${JSON.stringify(host)} is not a host name`)
    return normalizeHost(name) + (withPort ? `:${withPort[2]}` : '')
  })
}

/**
 * Capability hosts: a DNS name or `*.suffix` pattern (at least two suffix labels), or an IP
 * literal (`127.0.0.1`, `[::1]`) that only a testing vault accepts; never `*` alone, never a port.
 */
export function parseCapabilityHosts(values: string[]): string[] {
  return values.map((host) => {
    const h = normalizeHost(host)
    if (h === '*' || h === '*.') throw usageError(`--host ${JSON.stringify(host)}: a lone wildcard would allow every host`, 'name the API host, e.g. --host api.example.com')
    if (/^(\[[^\]]*\]|[^:]+):\d+$/.test(h)) throw usageError(`--host ${JSON.stringify(host)}: a capability names hosts, not ports`, 'drop the port; the credential decides it')
    if (!isValidHostPattern(h) && !isIpLiteral(h)) throw usageError(`--host ${JSON.stringify(host)} is not a valid DNS name`, 'use a host name such as api.example.com, or *.example.com')
    return h
  })
}

import {AivaultError} from '../../errors'
import {intersectHostPatterns, isWildcardPattern} from '../../registry/host-pattern'
import type {ResolvedCapability} from './capabilities'
import type {ResolvedCredential} from './resolve-credential'

function splitPort(host: string): {name: string; port: number | undefined} {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host)
  if (!match) return {name: host, port: undefined}
  return {name: match[1].toLowerCase(), port: match[2] === undefined ? undefined : Number(match[2])}
}

/**
 * SPEC §7 step 6: the upstream host is the credential's hosts intersected with the
 * capability's, and there must be exactly one exact host (a wildcard left over means the
 * credential was never narrowed to a tenant). https on the default port, unless a testing
 * vault allows `host:port` (AIVAULT_DEV_ALLOW_NON_DEFAULT_PORTS).
 */
export function effectiveHost(credential: ResolvedCredential, capability: ResolvedCapability, allowNonDefaultPorts: boolean): {host: string; port: number} {
  const credentialHosts = credential.hosts.map(splitPort)
  const ports = new Map(credentialHosts.map((h) => [h.name, h.port]))
  const capabilityHosts = capability.allow.hosts.map((h) => splitPort(h).name)
  const plain = (list: {name: string}[]) => list.map((h) => h.name).filter((h) => !h.startsWith('['))
  const literals = credentialHosts.filter((h) => h.name.startsWith('[') && capabilityHosts.includes(h.name)).map((h) => h.name)
  const hosts = [...new Set([...intersectHostPatterns(plain(credentialHosts), capabilityHosts), ...literals])]
  if (hosts.length !== 1) {
    throw new AivaultError('policy_violation', `${capability.id} with credential ${credential.id} allows ${hosts.length === 0 ? 'no host' : `${hosts.length} hosts (${hosts.join(', ')})`}; exactly one is required`, {
      hint: hosts.length === 0 ? 'the credential and the capability name different hosts' : `narrow the credential with "aivault credential update ${credential.id} --host <host>"`,
    })
  }
  const host = hosts[0]
  if (isWildcardPattern(host)) {
    throw new AivaultError('policy_violation', `credential ${credential.id} is waiting for a tenant host (it only names the pattern ${host})`, {
      hint: `complete it with "aivault credential update ${credential.id} --host <tenant>${host.slice(1)}"`,
    })
  }
  const port = ports.get(host) ?? 443
  if (port !== 443 && !allowNonDefaultPorts) {
    throw new AivaultError('policy_violation', `port ${port} is not allowed: upstreams use https on port 443`, {hint: 'only a testing vault with AIVAULT_DEV_ALLOW_NON_DEFAULT_PORTS=1 may use other ports'})
  }
  return {host: host.replace(/^\[|\]$/g, ''), port}
}

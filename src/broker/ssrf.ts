import * as dns from 'node:dns'
import * as net from 'node:net'

import {AivaultError} from '../errors'
import type {TestOverrides} from './test-mode'

/**
 * Addresses an upstream may never resolve to (SPEC §7 step 7): loopback, private, link-local,
 * CGNAT, unspecified, unique-local, multicast, documentation and cloud-metadata ranges, IPv4
 * and IPv6, including IPv4 inside IPv4-mapped and NAT64 IPv6 addresses.
 */
const BLOCKED = new net.BlockList()
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  BLOCKED.addSubnet(network, prefix, 'ipv4')
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
  ['100::', 64],
] as const) {
  BLOCKED.addSubnet(network, prefix, 'ipv6')
}

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::/96) address. */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase()
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower)
  if (dotted) return dotted[1]
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower)
  if (!hex) return undefined
  const hi = parseInt(hex[1], 16)
  const lo = parseInt(hex[2], 16)
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
}

export function isBlockedAddress(address: string): boolean {
  const family = net.isIP(address)
  if (family === 4) return BLOCKED.check(address, 'ipv4')
  if (family === 6) {
    const inner = embeddedIpv4(address)
    if (inner) return BLOCKED.check(inner, 'ipv4')
    return BLOCKED.check(address, 'ipv6')
  }
  return true // not an IP address at all: never connect to it
}

export interface CheckedAddress {
  address: string
  family: 4 | 6
  port: number
}

/**
 * Resolve the upstream host and return the one address the connection must use. Every
 * address the name resolves to must pass (a name that also points inside is refused), and the
 * socket then connects to the checked address, so a second DNS answer cannot swap it.
 */
export async function checkUpstreamAddress(host: string, port: number, overrides: TestOverrides): Promise<CheckedAddress> {
  const pinned = overrides.resolve.get(host.toLowerCase())
  let candidates: Array<{address: string; family: number}>
  let connectPort = port
  const literal = host.replace(/^\[|\]$/g, '')
  if (pinned) {
    candidates = [{address: pinned.address, family: net.isIP(pinned.address)}]
    connectPort = pinned.port
  } else if (net.isIP(literal)) {
    candidates = [{address: literal, family: net.isIP(literal)}]
  } else {
    try {
      candidates = await dns.promises.lookup(host, {all: true, verbatim: true})
    } catch {
      throw new AivaultError('upstream_unreachable', `cannot resolve ${host}`)
    }
  }
  if (candidates.length === 0) throw new AivaultError('upstream_unreachable', `cannot resolve ${host}`)
  for (const candidate of candidates) {
    if (isBlockedAddress(candidate.address) && !overrides.allowPrivateUpstreams) {
      throw new AivaultError('policy_violation', `${host} resolves to ${candidate.address}, a private or reserved address`, {
        hint: 'upstreams must be public hosts',
      })
    }
  }
  const chosen = candidates[0]
  return {address: chosen.address, family: chosen.family === 6 ? 6 : 4, port: connectPort}
}

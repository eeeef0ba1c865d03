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

/** The 16 bytes of an IPv6 address in any spelling (zero runs, leading zeros, dotted tail). */
function ipv6Bytes(address: string): number[] | undefined {
  let text = address.toLowerCase().replace(/%.*$/, '')
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number)
    text = text.slice(0, dotted.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const head = halves[0] ? halves[0].split(':') : []
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : []
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0
  const groups = [...head, ...Array(Math.max(fill, 0)).fill('0'), ...tail]
  if (groups.length !== 8 || !groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return undefined
  return groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 255])
}

/** The IPv4 address inside an IPv4-mapped (::ffff:0:0/96) or NAT64 (64:ff9b::/96) address. */
function embeddedIpv4(address: string): string | undefined {
  const bytes = ipv6Bytes(address)
  if (!bytes) return undefined
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff
  const nat64 = bytes[0] === 0 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && bytes.slice(4, 12).every((b) => b === 0)
  return mapped || nat64 ? bytes.slice(12).join('.') : undefined
}

/** Verdicts by address: the blocklist never changes, and a long-lived process sees the same few upstreams. */
const verdicts = new Map<string, boolean>()

export function isBlockedAddress(address: string): boolean {
  let blocked = verdicts.get(address)
  if (blocked === undefined) {
    blocked = checkBlocklist(address)
    if (verdicts.size >= 4096) verdicts.clear()
    verdicts.set(address, blocked)
  }
  return blocked
}

function checkBlocklist(address: string): boolean {
  const family = net.isIP(address)
  if (family === 4) return BLOCKED.check(address, 'ipv4')
  if (family === 6) {
    const inner = embeddedIpv4(address)
    if (inner) return BLOCKED.check(inner, 'ipv4')
    return BLOCKED.check(address, 'ipv6')
  }
  return true // not an IP address at all: never connect to it
}

/** Long-lived processes cache checked DNS answers briefly; the CLI resolves every time. */
let dnsCacheMs = 0
const dnsCache = new Map<string, {at: number; candidates: Array<{address: string; family: number}>}>()

export function enableDnsCache(ttlMs = 30_000): void {
  dnsCacheMs = ttlMs
}

/** A fresh cached DNS answer for `host`, if any. */
function cachedLookup(host: string): Array<{address: string; family: number}> | undefined {
  const cached = dnsCache.get(host)
  return cached && Date.now() - cached.at < dnsCacheMs ? cached.candidates : undefined
}

async function lookupAll(host: string): Promise<Array<{address: string; family: number}>> {
  const candidates = await dns.promises.lookup(host, {all: true, verbatim: true})
  if (dnsCacheMs > 0) dnsCache.set(host, {at: Date.now(), candidates})
  return candidates
}

export interface CheckedAddress {
  address: string
  family: 4 | 6
  port: number
}

/**
 * The checked address when no DNS query is needed: a pinned test host, an IP literal, or a
 * fresh cached answer (long-lived processes). Undefined when the name must be resolved.
 */
export function checkedAddressNow(host: string, port: number, overrides: TestOverrides): CheckedAddress | undefined {
  const pinned = overrides.resolve.get(host.toLowerCase())
  if (pinned) return checkCandidates(host, [{address: pinned.address, family: net.isIP(pinned.address)}], pinned.port, overrides)
  const literal = host.replace(/^\[|\]$/g, '')
  if (net.isIP(literal)) return checkCandidates(host, [{address: literal, family: net.isIP(literal)}], port, overrides)
  const cached = cachedLookup(host)
  return cached && checkCandidates(host, cached, port, overrides)
}

/**
 * Resolve the upstream host and return the one address the connection must use. Every
 * address the name resolves to must pass (a name that also points inside is refused), and the
 * socket then connects to the checked address, so a second DNS answer cannot swap it.
 */
export async function checkUpstreamAddress(host: string, port: number, overrides: TestOverrides): Promise<CheckedAddress> {
  const known = checkedAddressNow(host, port, overrides)
  if (known) return known
  let candidates: Array<{address: string; family: number}>
  try {
    candidates = await lookupAll(host)
  } catch {
    throw new AivaultError('upstream_unreachable', `cannot resolve ${host}`)
  }
  return checkCandidates(host, candidates, port, overrides)
}

function checkCandidates(host: string, candidates: Array<{address: string; family: number}>, port: number, overrides: TestOverrides): CheckedAddress {
  if (candidates.length === 0) throw new AivaultError('upstream_unreachable', `cannot resolve ${host}`)
  for (const candidate of candidates) {
    if (!overrides.allowPrivateUpstreams && isBlockedAddress(candidate.address)) {
      throw new AivaultError('policy_violation', `${host} resolves to ${candidate.address}, a private or reserved address`, {
        hint: 'upstreams must be public hosts',
      })
    }
  }
  const chosen = candidates[0]
  return {address: chosen.address, family: chosen.family === 6 ? 6 : 4, port}
}

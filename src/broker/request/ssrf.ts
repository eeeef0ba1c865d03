import * as dns from 'node:dns'
import * as net from 'node:net'

import {AivaultError} from '../../errors'
import type {TestOverrides} from './test-mode'

/**
 * Addresses an upstream may never resolve to (SPEC §7 step 7). ipaddr.js names the special
 * ranges (loopback, private, link-local, CGNAT, unspecified, unique-local, multicast,
 * documentation, benchmarking, reserved, ...): anything it does not call 'unicast' is refused.
 * IPv6 forms that carry an IPv4 address the packet is really delivered to are judged by that
 * address instead (embeddedIpv4s), so `::ffff:127.0.0.1`, `2002:7f00:1::` or a Teredo address
 * wrapping 169.254.169.254 are refused while the same forms around a public address pass.
 */
type Ipaddr = typeof import('ipaddr.js')
let ipaddrModule: Ipaddr | undefined

/** Loaded on the first verdict (verdicts are memoized): one-shot commands that never invoke skip it. */
function ipaddr(): Ipaddr {
  ipaddrModule ??= require('ipaddr.js') as Ipaddr
  return ipaddrModule
}

/** Cloud platform addresses outside the named ranges (Azure's wire server); the others are link-local, CGNAT or unique-local. */
const METADATA_IPV4 = new Set(['168.63.129.16'])

function isBlockedIpv4(octets: number[]): boolean {
  const {IPv4} = ipaddr()
  return new IPv4(octets).range() !== 'unicast' || METADATA_IPV4.has(octets.join('.'))
}

/** Two 16-bit groups as four octets. */
function octetsOf(high: number, low: number): number[] {
  return [high >> 8, high & 0xff, low >> 8, low & 0xff]
}

/**
 * The IPv4 addresses an IPv6 address hands its packets to, from its eight 16-bit groups;
 * undefined for a plain IPv6 address, empty for a layout that cannot be judged (refused).
 * - IPv4-mapped `::ffff:a.b.c.d` and IPv4-compatible `::a.b.c.d` (so `::` and `::1` too);
 * - IPv4-translated `::ffff:0:a.b.c.d` (RFC 6145);
 * - NAT64: the well-known `64:ff9b::/96` and the local-use `64:ff9b:1::/48` (RFC 8215), whose
 *   operator may embed the address at other bit offsets: only its `/96` layout
 *   (`64:ff9b:1::a.b.c.d`) is judged, any other address in it is refused;
 * - 6to4 `2002:AABB:CCDD::/48`: bits 16-48;
 * - Teredo `2001:0:SSSS:SSSS:flags:port:CCCC:CCCC`: the server, and the client whose address
 *   is stored inverted (XOR 0xffffffff). Both are checked: either one may be the inside target.
 */
function embeddedIpv4s(p: number[]): number[][] | undefined {
  const last = () => octetsOf(p[6], p[7])
  if (p[0] === 0 && p[1] === 0 && p[2] === 0 && p[3] === 0) {
    if (p[4] === 0 && (p[5] === 0 || p[5] === 0xffff)) return [last()]
    if (p[4] === 0xffff && p[5] === 0) return [last()]
    return undefined
  }
  if (p[0] === 0x64 && p[1] === 0xff9b) {
    if (p[2] === 0 && p[3] === 0 && p[4] === 0 && p[5] === 0) return [last()]
    if (p[2] === 1) return p[3] === 0 && p[4] === 0 && p[5] === 0 ? [last()] : []
    return undefined
  }
  if (p[0] === 0x2002) return [octetsOf(p[1], p[2])]
  if (p[0] === 0x2001 && p[1] === 0) return [octetsOf(p[2], p[3]), octetsOf(p[6] ^ 0xffff, p[7] ^ 0xffff)]
  return undefined
}

function isBlockedIpv6(address: string): boolean {
  const {IPv6} = ipaddr()
  const parsed = IPv6.parse(address)
  const inner = embeddedIpv4s(parsed.parts)
  if (inner) return inner.length === 0 || inner.some(isBlockedIpv4)
  // ::/8 is reserved (its IPv4 forms are judged above); nothing public lives there.
  return parsed.range() !== 'unicast' || parsed.parts[0] < 0x100
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
  // net.isIP first: ipaddr.js also reads legacy IPv4 spellings (`127.1`, `0x7f000001`) that are never connected to.
  const family = net.isIP(address)
  if (family === 4) return isBlockedIpv4(ipaddr().IPv4.parse(address).octets)
  if (family === 6) return isBlockedIpv6(address)
  return true // not an IP address at all: never connect to it
}

/**
 * Long-lived processes reuse checked DNS answers for `dnsCacheMs` (RunMode.dnsCacheMs); the
 * CLI (0) resolves every time and remembers nothing.
 */
const dnsCache = new Map<string, {at: number; candidates: Array<{address: string; family: number}>}>()

/** A cached DNS answer for `host` younger than `dnsCacheMs`, if any. */
function cachedLookup(host: string, dnsCacheMs: number): Array<{address: string; family: number}> | undefined {
  if (dnsCacheMs <= 0) return undefined
  const cached = dnsCache.get(host)
  return cached && Date.now() - cached.at < dnsCacheMs ? cached.candidates : undefined
}

async function lookupAll(host: string, dnsCacheMs: number): Promise<Array<{address: string; family: number}>> {
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
 * cached answer younger than `dnsCacheMs` (long-lived processes). Undefined when the name must
 * be resolved.
 */
export function checkedAddressNow(host: string, port: number, overrides: TestOverrides, dnsCacheMs = 0): CheckedAddress | undefined {
  const pinned = overrides.resolve.get(host.toLowerCase())
  if (pinned) return checkCandidates(host, [{address: pinned.address, family: net.isIP(pinned.address)}], pinned.port, overrides)
  const literal = host.replace(/^\[|\]$/g, '')
  if (net.isIP(literal)) return checkCandidates(host, [{address: literal, family: net.isIP(literal)}], port, overrides)
  const cached = cachedLookup(host, dnsCacheMs)
  return cached && checkCandidates(host, cached, port, overrides)
}

/**
 * Resolve the upstream host and return the one address the connection must use. Every
 * address the name resolves to must pass (a name that also points inside is refused), and the
 * socket then connects to the checked address, so a second DNS answer cannot swap it.
 */
export async function checkUpstreamAddress(host: string, port: number, overrides: TestOverrides, dnsCacheMs = 0): Promise<CheckedAddress> {
  const known = checkedAddressNow(host, port, overrides, dnsCacheMs)
  if (known) return known
  let candidates: Array<{address: string; family: number}>
  try {
    candidates = await lookupAll(host, dnsCacheMs)
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

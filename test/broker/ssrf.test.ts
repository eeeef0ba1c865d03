/**
 * SSRF guard (SPEC §7 step 7, §14-15 test overrides): loopback, private, link-local, CGNAT,
 * unspecified, unique-local and metadata addresses are refused in IPv4 and IPv6, including
 * IPv4 wrapped in IPv4-mapped and NAT64 addresses; public ones pass. checkUpstreamAddress is
 * exercised only with IP literals and AIVAULT_DEV_RESOLVE-style pins: no real DNS.
 */
import assert from 'node:assert/strict'

import {checkedAddressNow, checkUpstreamAddress, isBlockedAddress} from '../../src/broker/request/ssrf'
import type {TestOverrides} from '../../src/broker/request/test-mode'
import {AivaultError} from '../../src/errors'

const BLOCKED_IPV4 = [
  // loopback
  '127.0.0.1',
  '127.0.0.2',
  '127.255.255.254',
  // unspecified
  '0.0.0.0',
  // private
  '10.0.0.1',
  '10.255.255.255',
  '172.16.0.1',
  '172.20.10.5',
  '172.31.255.255',
  '192.168.0.1',
  '192.168.255.255',
  // link-local and cloud metadata
  '169.254.0.1',
  '169.254.169.254',
  '169.254.170.2',
  // CGNAT 100.64/10
  '100.64.0.0',
  '100.64.0.1',
  '100.100.100.200',
  '100.127.255.255',
]

const BLOCKED_IPV6 = [
  // loopback and unspecified, in several spellings
  '::1',
  '0:0:0:0:0:0:0:1',
  '0000:0000:0000:0000:0000:0000:0000:0001',
  '::',
  '0:0:0:0:0:0:0:0',
  // unique-local fc00::/7 (fd00::/8 in use), including AWS's metadata address
  'fd00::1',
  'fd12:3456:789a::1',
  'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
  'fd00:ec2::254',
  'fc00::1',
  // link-local fe80::/10
  'fe80::1',
  'fe80::1ff:fe23:4567:890a',
  'febf:ffff::1',
  'FE80::ABCD',
  // IPv4-mapped
  '::ffff:127.0.0.1',
  '::ffff:7f00:1',
  '::FFFF:7F00:0001',
  '0:0:0:0:0:ffff:7f00:1',
  '0:0:0:0:0:ffff:127.0.0.1',
  '::ffff:10.0.0.1',
  '::ffff:a00:1',
  '::ffff:169.254.169.254',
  '::ffff:a9fe:a9fe',
  '::ffff:192.168.1.1',
  '::ffff:c0a8:101',
  '::ffff:100.64.0.1',
  '::ffff:0.0.0.0',
  // NAT64 64:ff9b::/96
  '64:ff9b::10.0.0.1',
  '64:ff9b::a00:1',
  '64:ff9b::127.0.0.1',
  '64:ff9b::7f00:1',
  '64:ff9b::169.254.169.254',
  '64:FF9B::A9FE:A9FE',
]

const PUBLIC = ['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700::1111', '2001:4860:4860::8888', '::ffff:8.8.8.8', '::ffff:808:808', '64:ff9b::8.8.8.8', '64:ff9b::808:808']

/** Just outside the blocked ranges: must not be over-blocked. */
const NEIGHBOURS = ['9.255.255.255', '11.0.0.0', '172.15.255.255', '172.32.0.0', '192.167.255.255', '192.169.0.0', '169.253.255.255', '169.255.0.0', '100.63.255.255', '100.128.0.0', '126.255.255.255', '128.0.0.1', 'fe7f:ffff::1', 'fbff:ffff::1']

function overrides(resolve: Record<string, {address: string; port: number}> = {}, allowPrivateUpstreams = false): TestOverrides {
  return {resolve: new Map(Object.entries(resolve)), allowNonDefaultPorts: false, allowPrivateUpstreams}
}

async function rejectsCode(promise: Promise<unknown>, code: string, label?: string): Promise<AivaultError> {
  let caught: unknown
  try {
    await promise
  } catch (error) {
    caught = error
  }
  assert.ok(caught instanceof AivaultError, `${label ?? ''}: expected an AivaultError, got ${String(caught)}`)
  assert.equal(caught.code, code, `${label ?? ''}: ${caught.message}`)
  return caught
}

describe('broker/ssrf: isBlockedAddress', () => {
  it('blocks loopback, unspecified, private, link-local, metadata and CGNAT IPv4 addresses', () => {
    for (const address of BLOCKED_IPV4) assert.equal(isBlockedAddress(address), true, address)
  })

  it('blocks loopback, unspecified, unique-local and link-local IPv6 addresses', () => {
    for (const address of BLOCKED_IPV6.filter((a) => !a.includes('ffff') && !a.toLowerCase().startsWith('64:ff9b'))) {
      assert.equal(isBlockedAddress(address), true, address)
    }
  })

  it('blocks private IPv4 wrapped in IPv4-mapped addresses, dotted or hex', () => {
    for (const address of BLOCKED_IPV6.filter((a) => a.toLowerCase().includes('ffff'))) assert.equal(isBlockedAddress(address), true, address)
  })

  it('blocks private IPv4 wrapped in NAT64 (64:ff9b::/96) addresses, dotted or hex', () => {
    for (const address of BLOCKED_IPV6.filter((a) => a.toLowerCase().startsWith('64:ff9b'))) assert.equal(isBlockedAddress(address), true, address)
  })

  it('blocks NAT64 addresses however the IPv6 is spelled (uncompressed, leading zeros)', () => {
    for (const address of ['64:ff9b:0:0:0:0:a00:1', '64:ff9b:0:0:0:0:10.0.0.1', '0064:ff9b:0000:0000:0000:0000:7f00:0001', '0064:ff9b::0a00:0001']) {
      assert.equal(isBlockedAddress(address), true, address)
    }
  })

  it('allows public IPv4 and IPv6 addresses', () => {
    for (const address of PUBLIC) assert.equal(isBlockedAddress(address), false, address)
  })

  it('does not over-block the neighbours of blocked ranges', () => {
    for (const address of NEIGHBOURS) assert.equal(isBlockedAddress(address), false, address)
  })

  it('treats anything that is not an IP address as blocked', () => {
    for (const address of ['localhost', 'example.com', '', '127.1', '0x7f000001', '2130706433', '[::1]', '1.2.3.4.5']) {
      assert.equal(isBlockedAddress(address), true, JSON.stringify(address))
    }
  })
})

describe('broker/ssrf: checkUpstreamAddress', () => {
  it('passes a public IPv4 literal and connects to it on the requested port', async () => {
    assert.deepEqual(await checkUpstreamAddress('8.8.8.8', 443, overrides()), {address: '8.8.8.8', family: 4, port: 443})
  })

  it('passes a public IPv6 literal, bracketed or not', async () => {
    assert.deepEqual(await checkUpstreamAddress('[2606:4700::1111]', 443, overrides()), {address: '2606:4700::1111', family: 6, port: 443})
    assert.deepEqual(await checkUpstreamAddress('2606:4700::1111', 443, overrides()), {address: '2606:4700::1111', family: 6, port: 443})
  })

  it('refuses private literals with policy_violation', async () => {
    for (const host of ['127.0.0.1', '10.1.2.3', '169.254.169.254', '100.64.0.1', '0.0.0.0', '[::1]', '::1', '[fd00::1]', '[::ffff:127.0.0.1]', '[64:ff9b::10.0.0.1]']) {
      await rejectsCode(checkUpstreamAddress(host, 443, overrides()), 'policy_violation', host)
    }
  })

  it('uses a pinned address and port instead of DNS, and checks the pinned address', async () => {
    const pins = overrides({'api.example.com': {address: '8.8.4.4', port: 8443}})
    assert.deepEqual(await checkUpstreamAddress('api.example.com', 443, pins), {address: '8.8.4.4', family: 4, port: 8443})
  })

  it('matches pinned hosts case-insensitively', async () => {
    const pins = overrides({'api.example.com': {address: '1.1.1.1', port: 9443}})
    assert.deepEqual(await checkUpstreamAddress('API.Example.COM', 443, pins), {address: '1.1.1.1', family: 4, port: 9443})
  })

  it('refuses a host pinned to a private address without allowPrivateUpstreams', async () => {
    for (const address of ['127.0.0.1', '::1', '10.0.0.5', '169.254.169.254', '::ffff:7f00:1', 'fd00::1']) {
      const error = await rejectsCode(checkUpstreamAddress('api.openai.com', 443, overrides({'api.openai.com': {address, port: 8443}})), 'policy_violation', address)
      assert.match(error.message, /api\.openai\.com/)
    }
  })

  it('lets a pinned loopback address through with allowPrivateUpstreams, on the pinned port', async () => {
    const v4 = overrides({'api.openai.com': {address: '127.0.0.1', port: 8443}}, true)
    assert.deepEqual(await checkUpstreamAddress('api.openai.com', 443, v4), {address: '127.0.0.1', family: 4, port: 8443})
    const v6 = overrides({'api.openai.com': {address: '::1', port: 9443}}, true)
    assert.deepEqual(await checkUpstreamAddress('api.openai.com', 443, v6), {address: '::1', family: 6, port: 9443})
  })

  it('lets a private literal through with allowPrivateUpstreams', async () => {
    assert.deepEqual(await checkUpstreamAddress('127.0.0.1', 8080, overrides({}, true)), {address: '127.0.0.1', family: 4, port: 8080})
  })

  it('pins apply only to the host they name', async () => {
    const pins = overrides({'api.example.com': {address: '127.0.0.1', port: 8443}}, true)
    assert.deepEqual(await checkUpstreamAddress('8.8.8.8', 443, pins), {address: '8.8.8.8', family: 4, port: 443})
  })
})

describe('broker/ssrf: checkedAddressNow (no DNS query)', () => {
  it('answers for literals and pins exactly as checkUpstreamAddress does', async () => {
    const pins = overrides({'api.example.com': {address: '8.8.4.4', port: 8443}})
    for (const [host, port] of [['8.8.8.8', 443], ['[2606:4700::1111]', 443], ['API.example.com', 443]] as const) {
      assert.deepEqual(checkedAddressNow(host, port, pins), await checkUpstreamAddress(host, port, pins))
    }
  })

  it('refuses private literals and pins at once, as policy_violation', () => {
    for (const [host, pins] of [['10.1.2.3', overrides()], ['api.openai.com', overrides({'api.openai.com': {address: '127.0.0.1', port: 8443}})]] as const) {
      assert.throws(() => checkedAddressNow(host, 443, pins), (error: unknown) => error instanceof AivaultError && error.code === 'policy_violation')
    }
  })

  it('has no answer for a name that must be resolved (nothing cached)', () => {
    assert.equal(checkedAddressNow('never-resolved.example.invalid', 443, overrides()), undefined)
  })
})

/**
 * SSRF guard, address table (SPEC §7 step 7, issue 12 item 8): every spelling of an inside
 * address the review found passing (IPv4-compatible, IPv4-translated, 6to4, Teredo, local-use
 * NAT64), the usual ranges, and the public addresses (including public IPv4 inside the same
 * IPv6 forms) that must still pass.
 */
import assert from 'node:assert/strict'

import {checkedAddressNow, isBlockedAddress} from '../../src/broker/request/ssrf'
import type {TestOverrides} from '../../src/broker/request/test-mode'
import {AivaultError} from '../../src/errors'

/** [address, what it is]: each must be refused. */
const BLOCKED: Array<[string, string]> = [
  // The usual IPv4 ranges.
  ['127.0.0.1', 'loopback'],
  ['0.0.0.0', 'unspecified'],
  ['10.1.2.3', 'private'],
  ['172.16.0.1', 'private'],
  ['192.168.1.1', 'private'],
  ['169.254.169.254', 'metadata (AWS, GCP, Azure IMDS)'],
  ['169.254.170.2', 'metadata (ECS)'],
  ['100.64.0.1', 'CGNAT'],
  ['100.100.100.200', 'metadata (Alibaba), CGNAT'],
  ['192.0.0.192', 'metadata (Oracle), IETF protocol assignments'],
  ['168.63.129.16', 'Azure wire server'],
  ['192.0.2.1', 'documentation'],
  ['198.18.0.1', 'benchmarking'],
  ['224.0.0.1', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.255', 'broadcast'],
  // The usual IPv6 ranges.
  ['::1', 'loopback'],
  ['::', 'unspecified'],
  ['fe80::1', 'link-local'],
  ['fe80::1%lo', 'link-local with a zone'],
  ['fd00:ec2::254', 'metadata (AWS IPv6), unique-local'],
  ['fc00::1', 'unique-local'],
  ['fec0::1', 'site-local (deprecated)'],
  ['ff02::1', 'multicast'],
  ['100::1', 'discard'],
  ['2001:db8::1', 'documentation'],
  ['0:0:0:1::1', 'reserved ::/8'],
  // IPv4-mapped.
  ['::ffff:127.0.0.1', 'mapped loopback'],
  ['::ffff:a9fe:a9fe', 'mapped metadata'],
  // IPv4-compatible (::a.b.c.d): missed before.
  ['::127.0.0.1', 'compatible loopback'],
  ['::7f00:1', 'compatible loopback, hex'],
  ['0:0:0:0:0:0:7f00:1', 'compatible loopback, uncompressed'],
  ['::169.254.169.254', 'compatible metadata'],
  ['::a9fe:a9fe', 'compatible metadata, hex'],
  ['::10.0.0.1', 'compatible private'],
  ['::100.64.0.1', 'compatible CGNAT'],
  // IPv4-translated (::ffff:0:a.b.c.d): missed before.
  ['::ffff:0:127.0.0.1', 'translated loopback'],
  ['::ffff:0:7f00:1', 'translated loopback, hex'],
  ['0:0:0:0:ffff:0:a9fe:a9fe', 'translated metadata, uncompressed'],
  ['::ffff:0:192.168.0.1', 'translated private'],
  // 6to4 (2002::/16, IPv4 in bits 16-48): missed before.
  ['2002:7f00:1::', '6to4 of 127.0.0.1'],
  ['2002:7f00:0001:0:0:0:0:1', '6to4 of 127.0.0.1, uncompressed'],
  ['2002:a9fe:a9fe::', '6to4 of 169.254.169.254'],
  ['2002:a9fe:a9fe:1234::5', '6to4 of 169.254.169.254 with a subnet and host'],
  ['2002:a00:1::1', '6to4 of 10.0.0.1'],
  ['2002:6440:1::1', '6to4 of 100.64.0.1'],
  ['2002::', '6to4 of 0.0.0.0'],
  // Teredo (2001::/32; the client's IPv4 is the last 32 bits XOR 0xffffffff): missed before.
  ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'Teredo client 127.0.0.1 (public server)'],
  ['2001:0:4136:e378:8000:63bf:5601:5601', 'Teredo client 169.254.169.254'],
  ['2001:0000:4136:e378:8000:63bf:f5ff:fffe', 'Teredo client 10.0.0.1, leading zeros'],
  ['2001:0:7f00:1:8000:63bf:f7f7:f7f7', 'Teredo server 127.0.0.1 (public client 8.8.8.8)'],
  // NAT64, well-known and local-use (RFC 8215 64:ff9b:1::/48, missed before).
  ['64:ff9b::127.0.0.1', 'NAT64 loopback'],
  ['64:ff9b::a9fe:a9fe', 'NAT64 metadata'],
  ['64:ff9b:1::127.0.0.1', 'local-use NAT64 loopback'],
  ['64:ff9b:1::7f00:1', 'local-use NAT64 loopback, hex'],
  ['64:ff9b:1::a9fe:a9fe', 'local-use NAT64 metadata'],
  ['64:ff9b:1::10.0.0.1', 'local-use NAT64 private'],
  ['64:ff9b:1:7f00:0:100::', 'local-use NAT64 with a /48 layout that cannot be judged'],
  ['64:ff9b:0:0:1::808:808', '64:ff9b::/32 outside the NAT64 prefix'],
]

/** Public addresses, including public IPv4 inside the IPv6 forms above: each must pass. */
const ALLOWED: Array<[string, string]> = [
  ['8.8.8.8', 'public IPv4'],
  ['1.1.1.1', 'public IPv4'],
  ['100.63.255.255', 'below CGNAT'],
  ['100.128.0.0', 'above CGNAT'],
  ['2606:4700::1111', 'public IPv6'],
  ['2001:4860:4860::8888', 'public IPv6 (2001:4860 is not Teredo)'],
  ['2a00:1450:4001:81b::200e', 'public IPv6'],
  ['::ffff:8.8.8.8', 'mapped public'],
  ['::8.8.8.8', 'compatible public'],
  ['::ffff:0:8.8.8.8', 'translated public'],
  ['2002:808:808::1', '6to4 of 8.8.8.8'],
  ['2001:0:4136:e378:8000:63bf:f7f7:f7f7', 'Teredo, public server and client 8.8.8.8'],
  ['64:ff9b::8.8.8.8', 'NAT64 (DNS64) of a public address'],
  ['64:ff9b:1::808:808', 'local-use NAT64 of a public address'],
]

const noOverrides: TestOverrides = {resolve: new Map(), allowNonDefaultPorts: false, allowPrivateUpstreams: false}

describe('broker/ssrf: the address table', () => {
  for (const [address, what] of BLOCKED) {
    it(`refuses ${address} (${what})`, () => {
      assert.equal(isBlockedAddress(address), true)
      if (address.includes('%')) return
      const host = address.includes(':') ? `[${address}]` : address
      assert.throws(() => checkedAddressNow(host, 443, noOverrides), (error: unknown) => error instanceof AivaultError && error.code === 'policy_violation')
    })
  }

  for (const [address, what] of ALLOWED) {
    it(`allows ${address} (${what})`, () => {
      assert.equal(isBlockedAddress(address), false)
      const host = address.includes(':') ? `[${address}]` : address
      assert.equal(checkedAddressNow(host, 443, noOverrides)?.address, address)
    })
  }
})

/**
 * Host rules of issue 12 items 5 and 6 (SPEC §4, §5, §6 hardened): IP literals, per-tenant
 * providers, narrowing a record's hosts to the registry's patterns, and which hosts a custom
 * capability may name. The tenant binding's associated data is checked at the end.
 */
import assert from 'node:assert/strict'

import {capabilityHostProblem, isIpLiteral, isPerTenant, narrowToPatterns} from '../../src/registry/host-pattern'
import {associatedData, makeKek, openValue, randomKey, SealOpenError, sealValue} from '../../src/vault/keys/seal'

describe('registry/host-pattern: tenants and capability hosts', () => {
  it('tells IP literals from DNS names', () => {
    for (const ip of ['127.0.0.1', '10.0.0.1', '127.1', '2130706433', '[::1]', '[2001:db8::1]', '0x7f.0.0.1']) assert.equal(isIpLiteral(ip), true, ip)
    for (const name of ['api.openai.com', 'localhost', 'a1.example.com', '*.example.com', 'xn--bcher-kva.example']) assert.equal(isIpLiteral(name), false, name)
  })

  it('calls a provider per-tenant when every host is a pattern', () => {
    assert.equal(isPerTenant(['*.zendesk.com']), true)
    assert.equal(isPerTenant(['*.algolia.net', '*.algolianet.com']), true)
    assert.equal(isPerTenant(['api.openai.com']), false)
    assert.equal(isPerTenant(['api.example.com', '*.example.com']), false)
    assert.equal(isPerTenant([]), false)
  })

  it('narrows record hosts to the patterns, ignoring the rest, and names tenant hosts', () => {
    assert.deepEqual(narrowToPatterns(['api.openai.com'], []), {hosts: ['api.openai.com'], ignored: [], tenants: []})
    assert.deepEqual(narrowToPatterns(['api.openai.com'], ['evil.com']), {hosts: ['api.openai.com'], ignored: ['evil.com'], tenants: []})
    assert.deepEqual(narrowToPatterns(['*.zendesk.com'], []), {hosts: ['*.zendesk.com'], ignored: [], tenants: []})
    assert.deepEqual(narrowToPatterns(['*.zendesk.com'], ['Acme.Zendesk.com']), {hosts: ['acme.zendesk.com'], ignored: [], tenants: ['acme.zendesk.com']})
    assert.deepEqual(narrowToPatterns(['*.zendesk.com'], ['acme.zendesk.com', 'zendesk.com.evil.com', 'a.b.zendesk.com']), {
      hosts: ['acme.zendesk.com'],
      ignored: ['zendesk.com.evil.com', 'a.b.zendesk.com'],
      tenants: ['acme.zendesk.com'],
    })
    // An exact registry host is never a tenant, even when a pattern also matches it.
    assert.deepEqual(narrowToPatterns(['api.example.com', '*.example.com'], ['api.example.com', 't.example.com']).tenants, ['t.example.com'])
    assert.deepEqual(narrowToPatterns(['deepgram.com', 'api.deepgram.com'], ['api.deepgram.com']), {hosts: ['api.deepgram.com'], ignored: [], tenants: []})
  })

  it('lets a custom capability name DNS names and patterns, IP literals only when testing, registry hosts only for registry providers', () => {
    const custom = {testing: false}
    for (const ok of ['api.example.com', '*.example.com', 'API.Example.com.']) assert.equal(capabilityHostProblem(ok, custom), undefined, ok)
    assert.match(capabilityHostProblem('*', custom) ?? '', /wildcard/)
    assert.match(capabilityHostProblem('*.com', custom) ?? '', /DNS/)
    assert.match(capabilityHostProblem('not a host!!', custom) ?? '', /DNS/)
    assert.match(capabilityHostProblem('api.example.com:22', custom) ?? '', /DNS/)
    for (const ip of ['127.0.0.1', '[::1]']) {
      assert.match(capabilityHostProblem(ip, custom) ?? '', /testing/, ip)
      assert.equal(capabilityHostProblem(ip, {testing: true}), undefined, ip)
    }
    assert.match(capabilityHostProblem('[::1]:22', {testing: true}) ?? '', /DNS/)
    assert.match(capabilityHostProblem('127.1', {testing: true}) ?? '', /not a valid IP/)
    const shopify = {providerPatterns: ['*.myshopify.com'], testing: true}
    assert.equal(capabilityHostProblem('shop.myshopify.com', shopify), undefined)
    assert.equal(capabilityHostProblem('*.myshopify.com', shopify), undefined)
    assert.match(capabilityHostProblem('evil.com', shopify) ?? '', /provider's hosts/)
    assert.match(capabilityHostProblem('127.0.0.1', shopify) ?? '', /provider's hosts/)
  })

  it('seals a tenant host into the associated data: a bound value opens only with it', async () => {
    const kek = await makeKek(await randomKey())
    const keys = new Map([[kek.id, kek]])
    const ad = (tenant?: string) => associatedData('vault', 'secret', {type: 'global'}, 'shopify', tenant)
    // Unbound records keep the associated data they were sealed with before bindings existed.
    assert.deepEqual(JSON.parse(Buffer.from(ad()).toString()), ['aivault/v1', 'vault', 'secret', 'global', 'shopify'])
    const sealed = await sealValue(kek, Buffer.from('token'), ad('a.myshopify.com'))
    assert.equal(Buffer.from(await openValue(keys, sealed, ad('a.myshopify.com'))).toString(), 'token')
    for (const wrong of [undefined, 'b.myshopify.com', '']) {
      await assert.rejects(openValue(keys, sealed, ad(wrong)), SealOpenError, String(wrong))
    }
  })
})

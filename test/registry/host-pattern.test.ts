import assert from 'node:assert/strict'
import {
  hostPatternCovers,
  intersectHostPatterns,
  isValidHost,
  isValidHostPattern,
  matchHostPattern,
  normalizeHost,
} from '../../src/registry/host-pattern'

describe('registry/host-pattern', () => {
  it('matches exact hosts case-insensitively, tolerating a trailing dot', () => {
    assert.equal(matchHostPattern('api.openai.com', 'api.openai.com'), true)
    assert.equal(matchHostPattern('api.openai.com', 'API.OpenAI.com'), true)
    assert.equal(matchHostPattern('API.OPENAI.COM', 'api.openai.com.'), true)
    assert.equal(matchHostPattern('api.openai.com.', 'api.openai.com'), true)
    assert.equal(matchHostPattern('api.openai.com', 'api.openai.co'), false)
    assert.equal(matchHostPattern('api.openai.com', 'evil-api.openai.com'), false)
    assert.equal(matchHostPattern('api.openai.com', 'api.openai.com.evil.com'), false)
  })

  it('lets *.suffix match exactly one extra label', () => {
    assert.equal(matchHostPattern('*.myshopify.com', 'shop.myshopify.com'), true)
    assert.equal(matchHostPattern('*.myshopify.com', 'My-Shop.MyShopify.com.'), true)
    assert.equal(matchHostPattern('*.myshopify.com', 'myshopify.com'), false)
    assert.equal(matchHostPattern('*.myshopify.com', '.myshopify.com'), false)
    assert.equal(matchHostPattern('*.myshopify.com', 'a.b.myshopify.com'), false)
    assert.equal(matchHostPattern('*.myshopify.com', 'shopmyshopify.com'), false)
    assert.equal(matchHostPattern('*.myshopify.com', 'shop.myshopify.com.evil.com'), false)
  })

  it('never matches with an invalid pattern or host', () => {
    assert.equal(matchHostPattern('*.com', 'example.com'), false)
    assert.equal(matchHostPattern('*', 'example.com'), false)
    assert.equal(matchHostPattern('', ''), false)
    assert.equal(matchHostPattern('*.myshopify.com', '*.myshopify.com'), false)
    assert.equal(matchHostPattern('a.com', 'a.com:443'), false)
  })

  it('validates patterns: exact hosts and wildcards with at least two suffix labels', () => {
    for (const ok of ['api.openai.com', 'localhost', '*.myshopify.com', '*.a.b.c', 'API.Example.COM', 'xn--bcher-kva.example']) {
      assert.equal(isValidHostPattern(ok), true, ok)
    }
    for (const bad of ['*.com', '*', '*.', 'a.*.com', '**.a.com', 'api..openai.com', '-a.com', 'a-.com', 'a.com:443', 'https://a.com', 'a com', '', `${'a'.repeat(64)}.com`]) {
      assert.equal(isValidHostPattern(bad), false, bad)
    }
    assert.equal(isValidHost('*.myshopify.com'), false)
    assert.equal(isValidHost('shop.myshopify.com'), true)
    assert.equal(normalizeHost('API.Example.com.'), 'api.example.com')
  })

  it('covers a pattern only by an equal pattern or by a wildcard matching an exact host', () => {
    assert.equal(hostPatternCovers('*.myshopify.com', 'shop.myshopify.com'), true)
    assert.equal(hostPatternCovers('*.myshopify.com', '*.myshopify.com'), true)
    assert.equal(hostPatternCovers('shop.myshopify.com', '*.myshopify.com'), false)
    assert.equal(hostPatternCovers('*.myshopify.com', '*.eu.myshopify.com'), false)
    assert.equal(hostPatternCovers('api.openai.com', 'API.openai.com'), true)
  })

  it('intersects host lists to the narrower patterns', () => {
    assert.deepEqual(intersectHostPatterns(['shop.myshopify.com'], ['*.myshopify.com']), ['shop.myshopify.com'])
    assert.deepEqual(intersectHostPatterns(['*.myshopify.com'], ['shop.myshopify.com']), ['shop.myshopify.com'])
    assert.deepEqual(intersectHostPatterns(['a.example.com', 'b.example.com'], ['B.example.com']), ['b.example.com'])
    assert.deepEqual(intersectHostPatterns(['a.example.com'], ['b.example.com']), [])
    assert.deepEqual(intersectHostPatterns(['*.example.com'], ['a.example.com', 'b.example.com']), ['a.example.com', 'b.example.com'])
  })
})

/**
 * What lenient upstreams re-interpret (SPEC §7 steps 4 and 8, hardened; issue 12 item 9):
 * segments that Tomcat and Spring read as "." or ".." once they drop `;` path parameters are
 * refused in every spelling, and caller headers that re-route a request (method overrides,
 * original-URL rewrites, forwarding claims) never go upstream.
 */
import assert from 'node:assert/strict'

import {filterRequestHeaders} from '../../src/broker/request/headers'
import {normalizeTarget} from '../../src/broker/request/path'
import {throwsCode} from './helpers'

describe('broker/path: segments servers read as dot segments', () => {
  const REFUSED = [
    '/v1/..;/admin', '/v1/..;', '/v1/.;/x', '/v1/.;', '/v1/x/..;/..;/admin',
    '/v1/..;jsessionid=1/admin', '/v1/.;a=b/x', '/v1/..;;/x', '/v1/..;/',
    '/v1/%2e%2e;/admin', '/v1/%2E%2E;/admin', '/v1/.%2e;/admin', '/v1/%2e;/x',
    '/v1/..%3b/admin', '/v1/..%3B/admin', '/v1/%2e%2e%3b/admin', '/v1/.%3Bx/y',
  ]

  for (const path of REFUSED) {
    it(`refuses ${path} as policy_violation`, () => throwsCode(() => normalizeTarget(path), 'policy_violation', path))
  }

  it('keeps segments whose part before ";" is not a dot segment', () => {
    for (const [path, segments] of [
      ['/v1/a;b', ['v1', 'a;b']],
      ['/v1/...;x', ['v1', '...;x']],
      ['/v1/.a;/x', ['v1', '.a;', 'x']],
      ['/v1/;..', ['v1', ';..']],
      ['/v1/a..;/x', ['v1', 'a..;', 'x']],
      ['/v1/.well-known;x', ['v1', '.well-known;x']],
    ] as const) {
      assert.deepEqual(normalizeTarget(path).segments, segments, path)
    }
  })
})

describe('broker/headers: re-routing headers are dropped', () => {
  const DROPPED = [
    'x-http-method-override', 'X-HTTP-Method-Override', 'x-http-method', 'X-HTTP-Method', 'x-method-override', 'X-Method-Override',
    'x-original-url', 'X-Original-URL', 'x-rewrite-url', 'X-Rewrite-URL',
    'x-forwarded-for', 'X-Forwarded-Host', 'x-forwarded-proto', 'X-Forwarded-Port', 'x-forwarded-prefix', 'x-forwarded-server',
    'forwarded', 'Forwarded', 'x-real-ip', 'X-Real-IP',
  ]

  for (const name of DROPPED) {
    it(`drops ${name}`, () => {
      assert.deepEqual(filterRequestHeaders([{name: 'accept', value: 'application/json'}, {name, value: 'DELETE'}], new Set()), [['accept', 'application/json']])
    })
  }

  it('drops expect: serve answers 100-continue itself, and the pooled client cannot send it (issue 12 item 20)', () => {
    for (const name of ['expect', 'Expect']) {
      assert.deepEqual(filterRequestHeaders([{name, value: '100-continue'}, {name: 'accept', value: '*/*'}], new Set()), [['accept', '*/*']])
    }
  })

  it('keeps headers that only look alike', () => {
    const kept = ['x-forwarded', 'x-http-methods', 'x-original', 'x-real-ip-hint', 'forwarded-for']
    assert.deepEqual(filterRequestHeaders(kept.map((name) => ({name, value: 'v'})), new Set()).map(([name]) => name), kept)
  })
})

/**
 * A refused redirect's message quotes the target after URL parsing and path normalization
 * rewrote it (src/broker/upstream/redirects.ts): an echoed secret must be redacted in that
 * form too, not only as the Location header spelled it.
 */
import assert from 'node:assert/strict'
import {Readable} from 'node:stream'

import type {AuthInjection, OutgoingRequest} from '../../src/broker/auth/types'
import {secretSpellings} from '../../src/broker/response/scrub'
import {redirectTarget} from '../../src/broker/upstream/redirects'

const request = {method: 'GET', host: 'api.example.com', port: 443, path: '/v1/items', query: [], headers: [], body: Buffer.alloc(0)} as unknown as OutgoingRequest
const allow = {pathPrefixes: ['/v1/items'], methods: ['GET']}
const noAuth: AuthInjection = {headers: [], query: [], redact: []}

/** The message of the refusal of a redirect to `location`. */
function refusal(location: string, secrets: string[], auth: AuthInjection = noAuth): string {
  const response = {statusCode: 302, headers: [['location', location]] as Array<[string, string]>, body: Readable.from([])}
  try {
    redirectTarget(response, request, auth, allow, secretSpellings(secrets))
  } catch (error) {
    return (error as Error).message
  }
  throw new Error(`the redirect to ${location} was followed`)
}

describe('broker/redirects: what a refused redirect quotes', () => {
  it('a host echoing a mixed-case key, which the URL parser lower-cased', () => {
    const key = 'AIzaSy-Redirect-SECRET_0123456789'
    const message = refusal(`https://${key}.evil.example/x`, [key])
    assert.equal(message, 'refusing a redirect to another host (https://[REDACTED].evil.example)')
    assert.ok(!message.toLowerCase().includes(key.toLowerCase()), message)
  })

  it('a path echoing a key that normalization re-encodes differently from any spelling', () => {
    const key = 'Ab+ Cd-redirect-SECRET-9'
    const message = refusal(`/other/${encodeURIComponent(key).replace('%2B', '+')}/next`, [key])
    assert.equal(message, 'refusing a redirect outside the capability (/other/[REDACTED]/next)')
  })

  it('a path echoing a key with "/", "+" and "=" as is', () => {
    const key = 'sk-redirect/SECRET+key=0123456789'
    assert.equal(refusal(`/other/${key}`, [key]), 'refusing a redirect outside the capability (/other/[REDACTED])')
  })

  it('path auth is taken off first, so the path is quoted without it', () => {
    const token = '123456:AAH-redirect-SECRET_abcdef'
    const auth: AuthInjection = {headers: [], query: [], pathPrefix: `/bot${token}`, redact: [token]}
    assert.equal(refusal(`/bot${token}/getUpdates?offset=1`, [token], auth), 'refusing a redirect outside the capability (/getUpdates)')
  })
})

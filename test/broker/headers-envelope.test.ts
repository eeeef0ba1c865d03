/**
 * Caller headers, response headers and the invocation envelope (SPEC §7 envelope, steps 8 and
 * 12; §15 "Pipeline errors"): reserved headers are dropped, auth-class and injected ones
 * refused, duplicates refused; unknown envelope fields are invalid_request, url/host fields
 * policy_violation, two body modes invalid_request; multipart bodies are well-formed.
 */
import assert from 'node:assert/strict'

import {encodeBody, parseEnvelope, parseRequest} from '../../src/broker/request/envelope'
import type {EnvelopeRequest} from '../../src/broker/request/envelope'
import {filterRequestHeaders, isDroppedResponseHeader} from '../../src/broker/request/headers'
import {AivaultError} from '../../src/errors'
import {throwsCode} from './helpers'


const h = (name: string, value = 'v') => ({name, value})
const NONE = new Set<string>()

describe('broker/headers: filterRequestHeaders', () => {
  it('passes ordinary headers through, lower-cased, in order', () => {
    const out = filterRequestHeaders([h('Accept', 'application/json'), h('Content-Type', 'text/plain'), h('OpenAI-Beta', 'assistants=v2')], NONE)
    assert.deepEqual(out, [
      ['accept', 'application/json'],
      ['content-type', 'text/plain'],
      ['openai-beta', 'assistants=v2'],
    ])
  })

  it('drops every reserved header, in any case', () => {
    const reserved = ['host', 'connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'content-length', 'proxy-connection', 'proxy-foo', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol']
    for (const name of reserved) {
      for (const spelling of [name, name.toUpperCase(), name.replace(/(^|-)([a-z])/g, (m) => m.toUpperCase())]) {
        assert.deepEqual(filterRequestHeaders([h('accept'), h(spelling, 'x')], NONE), [['accept', 'v']], spelling)
      }
    }
  })

  it('refuses auth-class headers in any case with policy_violation', () => {
    for (const name of ['authorization', 'Authorization', 'AUTHORIZATION', 'proxy-authorization', 'Proxy-Authorization', 'cookie', 'Cookie', 'x-api-key', 'X-Api-Key', 'X-API-KEY']) {
      throwsCode(() => filterRequestHeaders([h(name, 'Bearer stolen')], NONE), 'policy_violation', name)
    }
  })

  it('refuses a header the credential injects, in any case, with policy_violation', () => {
    const injected = new Set(['x-goog-api-key', 'anthropic-version', 'x-aivault-timestamp'])
    for (const name of ['x-goog-api-key', 'X-Goog-Api-Key', 'Anthropic-Version', 'X-AIVAULT-TIMESTAMP']) {
      throwsCode(() => filterRequestHeaders([h(name)], injected), 'policy_violation', name)
    }
    // Not injected by this credential: fine.
    assert.deepEqual(filterRequestHeaders([h('X-Goog-Api-Key')], NONE), [['x-goog-api-key', 'v']])
  })

  it('refuses duplicate headers, however they are spelled, with policy_violation', () => {
    throwsCode(() => filterRequestHeaders([h('Accept', 'a'), h('accept', 'b')], NONE), 'policy_violation', 'Accept/accept')
    throwsCode(() => filterRequestHeaders([h('x-trace'), h('X-TRACE')], NONE), 'policy_violation', 'x-trace/X-TRACE')
    throwsCode(() => filterRequestHeaders([h('content-type', 'a'), h('accept'), h('Content-Type', 'a')], NONE), 'policy_violation', 'content-type twice')
  })

  it('refuses header values that smuggle line breaks', () => {
    for (const value of ['a\r\nx-api-key: k', 'a\nb', 'a\rb', 'a\u0000b']) {
      assert.throws(() => filterRequestHeaders([h('x-note', value)], NONE), AivaultError, JSON.stringify(value))
    }
  })

  it('refuses header names that are not HTTP tokens', () => {
    for (const name of ['', 'a b', 'a:b', 'a\r\nb', 'x-api-key:', '(x)']) {
      assert.throws(() => filterRequestHeaders([h(name)], NONE), AivaultError, JSON.stringify(name))
    }
  })

  it('returns nothing for no headers', () => {
    assert.deepEqual(filterRequestHeaders([], NONE), [])
  })
})

describe('broker/headers: isDroppedResponseHeader', () => {
  it('drops hop-by-hop headers', () => {
    for (const name of ['connection', 'Connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'Transfer-Encoding', 'upgrade', 'proxy-connection', 'proxy-authenticate']) {
      assert.equal(isDroppedResponseHeader(name, NONE), true, name)
    }
  })

  it('drops set-cookie and auth-class headers', () => {
    for (const name of ['set-cookie', 'Set-Cookie', 'set-cookie2', 'authorization', 'Authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'X-Api-Key']) {
      assert.equal(isDroppedResponseHeader(name, NONE), true, name)
    }
  })

  it('drops headers the credential injects (an echoing upstream must not reflect them)', () => {
    const injected = new Set(['x-goog-api-key'])
    assert.equal(isDroppedResponseHeader('X-Goog-Api-Key', injected), true)
    assert.equal(isDroppedResponseHeader('x-goog-api-key', NONE), false)
  })

  it('keeps ordinary response headers', () => {
    for (const name of ['content-type', 'Content-Type', 'etag', 'x-request-id', 'retry-after', 'x-ratelimit-remaining', 'location', 'cache-control']) {
      assert.equal(isDroppedResponseHeader(name, NONE), false, name)
    }
  })
})

describe('broker/envelope: parseEnvelope', () => {
  it('accepts a complete envelope and upper-cases the method', () => {
    const envelope = parseEnvelope({
      capability: 'openai/chat-completions',
      credential: 'openai',
      timeoutMs: 5000,
      request: {method: 'post', path: '/v1/chat/completions', headers: [{name: 'accept', value: 'application/json'}], body: '{}'},
    })
    assert.deepEqual(envelope, {
      capability: 'openai/chat-completions',
      credential: 'openai',
      timeoutMs: 5000,
      request: {method: 'POST', path: '/v1/chat/completions', headers: [{name: 'accept', value: 'application/json'}], body: '{}'},
    })
  })

  it('accepts a minimal envelope', () => {
    const envelope = parseEnvelope({capability: 'openai/models', request: {}})
    assert.equal(envelope.capability, 'openai/models')
    assert.equal(envelope.credential, undefined)
    assert.deepEqual(envelope.request, {})
  })

  it('refuses unknown envelope fields with invalid_request', () => {
    throwsCode(() => parseEnvelope({capability: 'c', request: {}, extra: 1}), 'invalid_request', 'extra')
    throwsCode(() => parseEnvelope({capability: 'c', request: {}, Capability: 'x'}), 'invalid_request', 'Capability')
    throwsCode(() => parseEnvelope({capability: 'c', request: {method: 'GET', path: '/', query: 'a=1'}}), 'invalid_request', 'request.query')
    throwsCode(() => parseEnvelope({capability: 'c', request: {method: 'GET', path: '/', bodyFile: '/etc/passwd'}}), 'invalid_request', 'request.bodyFile')
  })

  it('refuses url and host fields with policy_violation, at the top and in the request', () => {
    throwsCode(() => parseEnvelope({capability: 'c', request: {}, url: 'https://evil.example/'}), 'policy_violation', 'url')
    throwsCode(() => parseEnvelope({capability: 'c', request: {}, host: 'evil.example'}), 'policy_violation', 'host')
    throwsCode(() => parseEnvelope({capability: 'c', request: {method: 'GET', path: '/', url: 'https://evil.example/'}}), 'policy_violation', 'request.url')
    throwsCode(() => parseEnvelope({capability: 'c', request: {method: 'GET', path: '/', host: 'evil.example'}}), 'policy_violation', 'request.host')
  })

  it('refuses a missing or empty capability and non-object envelopes with invalid_request', () => {
    throwsCode(() => parseEnvelope({request: {}}), 'invalid_request', 'no capability')
    throwsCode(() => parseEnvelope({capability: '', request: {}}), 'invalid_request', 'empty capability')
    throwsCode(() => parseEnvelope({capability: 7, request: {}}), 'invalid_request', 'numeric capability')
    for (const raw of [null, 'x', 1, [], undefined]) throwsCode(() => parseEnvelope(raw), 'invalid_request', JSON.stringify(raw))
    throwsCode(() => parseEnvelope({capability: 'c', request: 'GET /'}), 'invalid_request', 'string request')
    throwsCode(() => parseEnvelope({capability: 'c', request: []}), 'invalid_request', 'array request')
  })

  it('validates credential and timeoutMs', () => {
    throwsCode(() => parseEnvelope({capability: 'c', credential: 3, request: {}}), 'invalid_request', 'credential 3')
    for (const timeoutMs of [0, -1, 1.5, '100', Number.NaN, Infinity]) {
      throwsCode(() => parseEnvelope({capability: 'c', timeoutMs, request: {}}), 'invalid_request', `timeoutMs ${String(timeoutMs)}`)
    }
  })
})

describe('broker/envelope: parseRequest', () => {
  it('accepts exactly one body mode', () => {
    assert.deepEqual(parseRequest({body: 'hi'}), {body: 'hi'})
    assert.deepEqual(parseRequest({bodyBase64: 'aGk='}), {bodyBase64: 'aGk='})
    assert.deepEqual(parseRequest({multipart: [{name: 'a', value: 'b'}]}), {multipart: [{name: 'a', value: 'b'}]})
    assert.deepEqual(parseRequest({multipartFiles: [{name: 'f', filename: 'a.txt', dataBase64: 'aGk='}]}), {
      multipartFiles: [{name: 'f', filename: 'a.txt', dataBase64: 'aGk='}],
    })
  })

  it('treats multipart fields plus multipart files as one (multipart) body mode', () => {
    const out = parseRequest({multipart: [{name: 'a', value: 'b'}], multipartFiles: [{name: 'f', filename: 'a.txt', dataBase64: ''}]})
    assert.equal(out.multipart?.length, 1)
    assert.equal(out.multipartFiles?.length, 1)
  })

  it('refuses two body modes with invalid_request', () => {
    const file = [{name: 'f', filename: 'a.txt', dataBase64: 'aGk='}]
    const field = [{name: 'a', value: 'b'}]
    const combos: Array<Record<string, unknown>> = [
      {body: 'x', bodyBase64: 'eA=='},
      {body: 'x', multipart: field},
      {body: 'x', multipartFiles: file},
      {bodyBase64: 'eA==', multipart: field},
      {bodyBase64: 'eA==', multipartFiles: file},
      {body: 'x', bodyBase64: 'eA==', multipart: field, multipartFiles: file},
      {body: '', bodyBase64: ''},
    ]
    for (const combo of combos) throwsCode(() => parseRequest(combo), 'invalid_request', Object.keys(combo).join('+'))
  })

  it('refuses malformed fields with invalid_request', () => {
    const bad: Array<Record<string, unknown>> = [
      {method: 'GET /'},
      {method: 7},
      {method: ''},
      {path: 7},
      {headers: {accept: 'x'}},
      {headers: [{name: 'a'}]},
      {headers: [{name: 'a', value: 1}]},
      {headers: [{name: 'a', value: 'b', extra: 'c'}]},
      {headers: ['accept: x']},
      {body: {a: 1}},
      {bodyBase64: 'not base64!'},
      {multipart: [{name: 'a'}]},
      {multipartFiles: [{name: 'f', dataBase64: 'eA=='}]},
      {multipartFiles: [{name: 'f', filename: 'a', path: '/etc/passwd'}]},
    ]
    for (const request of bad) throwsCode(() => parseRequest(request), 'invalid_request', JSON.stringify(request))
  })
})

/** Parse a multipart/form-data body into its parts (headers lower-cased, content as bytes). */
function parseMultipart(body: Buffer, contentType: string): Array<{headers: Record<string, string>; content: Buffer}> {
  const match = /^multipart\/form-data; boundary=(.+)$/.exec(contentType)
  assert.ok(match, `content type ${contentType}`)
  const boundary = match[1]
  const text = body.toString('latin1')
  assert.ok(text.startsWith(`--${boundary}\r\n`), 'body starts with the boundary')
  assert.ok(text.endsWith(`\r\n--${boundary}--\r\n`) || text === `--${boundary}--\r\n`, 'body ends with the closing boundary')
  const inner = text.slice(0, text.lastIndexOf(`--${boundary}--`))
  const chunks = inner.split(`--${boundary}\r\n`).slice(1)
  return chunks.map((chunk) => {
    assert.ok(chunk.endsWith('\r\n'), 'each part ends with CRLF')
    const [head, ...rest] = chunk.slice(0, -2).split('\r\n\r\n')
    const headers: Record<string, string> = {}
    for (const line of head.split('\r\n')) {
      const at = line.indexOf(':')
      headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim()
    }
    return {headers, content: Buffer.from(rest.join('\r\n\r\n'), 'latin1')}
  })
}

describe('broker/envelope: encodeBody', () => {
  it('encodes a text body as UTF-8 and a base64 body as its bytes', () => {
    assert.deepEqual(encodeBody({body: 'café'}), {body: Buffer.from('café', 'utf8')})
    assert.deepEqual(encodeBody({bodyBase64: Buffer.from([0, 255, 10, 13]).toString('base64')}), {body: Buffer.from([0, 255, 10, 13])})
  })

  it('sends an empty body when there is none', () => {
    const out = encodeBody({method: 'GET', path: '/'})
    assert.equal(out.body.length, 0)
    assert.equal(out.contentType, undefined)
  })

  it('builds a well-formed multipart body from fields and files', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff])
    const request: EnvelopeRequest = {
      multipart: [
        {name: 'model', value: 'whisper-1'},
        {name: 'prompt', value: 'line 1\r\nline 2'},
      ],
      multipartFiles: [
        {name: 'file', filename: 'audio.mp3', contentType: 'audio/mpeg', dataBase64: Buffer.from('ID3 audio').toString('base64')},
        {name: 'image', filename: 'a.png', dataBase64: png.toString('base64')},
      ],
    }
    const {body, contentType} = encodeBody(request)
    assert.ok(contentType)
    const parts = parseMultipart(body, contentType)
    assert.equal(parts.length, 4)
    assert.equal(parts[0].headers['content-disposition'], 'form-data; name="model"')
    assert.equal(parts[0].content.toString(), 'whisper-1')
    assert.equal(parts[1].headers['content-disposition'], 'form-data; name="prompt"')
    assert.equal(parts[1].content.toString(), 'line 1\r\nline 2')
    assert.equal(parts[2].headers['content-disposition'], 'form-data; name="file"; filename="audio.mp3"')
    assert.equal(parts[2].headers['content-type'], 'audio/mpeg')
    assert.equal(parts[2].content.toString(), 'ID3 audio')
    assert.equal(parts[3].headers['content-disposition'], 'form-data; name="image"; filename="a.png"')
    assert.equal(parts[3].headers['content-type'], 'application/octet-stream')
    assert.deepEqual(parts[3].content, png)
  })

  it('builds a multipart body from files alone', () => {
    const {body, contentType} = encodeBody({multipartFiles: [{name: 'f', filename: 'x.txt', contentType: 'text/plain', dataBase64: Buffer.from('hello').toString('base64')}]})
    assert.ok(contentType)
    const parts = parseMultipart(body, contentType)
    assert.equal(parts.length, 1)
    assert.equal(parts[0].content.toString(), 'hello')
  })

  it('uses a fresh boundary each time', () => {
    const request: EnvelopeRequest = {multipart: [{name: 'a', value: 'b'}]}
    const first = encodeBody(request).contentType
    const second = encodeBody(request).contentType
    assert.notEqual(first, second)
  })

  it('escapes quotes and line breaks in field names and file names so they cannot add headers', () => {
    const {body, contentType} = encodeBody({
      multipart: [{name: 'a"\r\nx-evil: 1', value: 'v'}],
      multipartFiles: [{name: 'f', filename: 'evil".txt\r\ncontent-type: text/html', dataBase64: ''}],
    })
    assert.ok(contentType)
    const parts = parseMultipart(body, contentType)
    assert.equal(parts.length, 2)
    assert.deepEqual(Object.keys(parts[0].headers), ['content-disposition'])
    assert.equal(parts[0].headers['content-disposition'], 'form-data; name="a%22%0D%0Ax-evil: 1"')
    assert.deepEqual(Object.keys(parts[1].headers).sort(), ['content-disposition', 'content-type'])
    assert.equal(parts[1].headers['content-type'], 'application/octet-stream')
    assert.equal(parts[1].headers['content-disposition'], 'form-data; name="f"; filename="evil%22.txt%0D%0Acontent-type: text/html"')
  })

  it('does not let a file content type add part headers', () => {
    const raw = {multipartFiles: [{name: 'f', filename: 'a.txt', contentType: 'text/plain\r\nx-evil: 1', dataBase64: ''}]}
    let request: EnvelopeRequest
    try {
      request = parseRequest(raw)
    } catch (error) {
      // Refusing it up front is fine too.
      assert.ok(error instanceof AivaultError && error.code === 'invalid_request', String(error))
      return
    }
    const {body, contentType} = encodeBody(request)
    assert.ok(contentType)
    const parts = parseMultipart(body, contentType)
    assert.equal(parts[0].headers['x-evil'], undefined, 'an injected part header')
  })
})

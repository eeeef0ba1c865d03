'use strict'
/** The example plugin's hooks and provider, on their own (aivault runs them end to end in test/e2e). */
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const beforeInvoke = require('../hooks/before-invoke')
const afterInvoke = require('../hooks/after-invoke')

const capability = (provider) => ({id: `${provider}/items`, provider, transport: 'http'})
const request = (method, body = '') => ({method, path: '/v1/items', query: [], headers: [{name: 'accept', value: 'application/json'}], body: Buffer.from(body)})
const invocation = {workspaceId: null, groupId: null, consumer: null, clientIp: null}

describe('aivault-plugin-example hooks', () => {
  it('before-invoke tags its own provider\'s requests with a non-auth header', async () => {
    const payload = {request: request('GET'), capability: capability('example'), credential: {id: 'example', provider: 'example'}, invocation}
    await beforeInvoke(payload)
    assert.deepEqual(payload.request.headers.at(-1), {name: 'x-example-client', value: 'aivault-plugin-example (example/items)'})
  })

  it('before-invoke leaves other providers alone', async () => {
    const payload = {request: request('GET'), capability: capability('openai'), credential: {id: 'openai', provider: 'openai'}, invocation}
    await beforeInvoke(payload)
    assert.equal(payload.request.headers.length, 1)
  })

  it('before-invoke refuses a POST without a body', async () => {
    const payload = {request: request('POST'), capability: capability('example'), credential: {id: 'example', provider: 'example'}, invocation}
    await assert.rejects(beforeInvoke(payload), /needs a JSON body/)
  })

  it('after-invoke removes internalNotes at any depth from its provider\'s JSON', async () => {
    const body = {items: [{id: 1, internalNotes: 'staff only', nested: {internalNotes: 'x', keep: true}}], internalNotes: 'top'}
    const payload = {response: {status: 200, headers: [['content-type', 'application/json']], body: Buffer.from(JSON.stringify(body))}, capability: capability('example')}
    await afterInvoke(payload)
    assert.deepEqual(JSON.parse(payload.response.body.toString()), {items: [{id: 1, nested: {keep: true}}]})
  })

  it('after-invoke leaves other providers, non-JSON and unparsable bodies as they were', async () => {
    for (const [provider, type, text] of [['openai', 'application/json', '{"internalNotes":1}'], ['example', 'text/plain', 'internalNotes'], ['example', 'application/json', '{not json']]) {
      const payload = {response: {status: 200, headers: [['content-type', type]], body: Buffer.from(text)}, capability: capability(provider)}
      await afterInvoke(payload)
      assert.equal(payload.response.body.toString(), text)
    }
  })

  it('declares exactly the hooks and the registry folder it ships', () => {
    const pjson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'))
    for (const file of Object.values(pjson.oclif.hooks)) assert.ok(fs.existsSync(path.join(__dirname, '..', file)), file)
    assert.ok(fs.existsSync(path.join(__dirname, '..', pjson.aivault.registry, 'example.yaml')))
  })
})

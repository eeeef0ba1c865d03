'use strict'
/** The secret's two forms, the scrubber, and the provider file against aivault's registry schema. */
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const {parseSecret, makeScrubber} = require('../lib/secret')

const ROOT = path.join(__dirname, '..', '..', '..')

describe('aivault-plugin-postgres secret', () => {
  it('reads the URL form, percent-decoding user, password and database', () => {
    assert.deepEqual(parseSecret('postgres://ag%40ent:p%40ss%2Fw%3Ard@db.example.com:6543/my%20db?sslmode=verify-full'), {
      host: 'db.example.com',
      port: 6543,
      database: 'my db',
      user: 'ag@ent',
      password: 'p@ss/w:rd',
      sslmode: 'verify-full',
    })
    assert.deepEqual(parseSecret(' postgresql://u@[::1]/d '), {host: '::1', port: 5432, database: 'd', user: 'u', password: '', sslmode: 'disable'})
  })

  it('reads the JSON form', () => {
    const json = JSON.stringify({host: '10.0.0.5', port: '5433', database: 'd', user: 'u', password: 'p"w', sslmode: 'require'})
    assert.deepEqual(parseSecret(json), {host: '10.0.0.5', port: 5433, database: 'd', user: 'u', password: 'p"w', sslmode: 'require'})
  })

  it('refuses incomplete or unsupported secrets without quoting them', () => {
    const cases = [
      ['', 'it is empty'],
      ['mysql://u:SECRETVALUE@h/d', 'the URL must start with postgres:// or postgresql://'],
      ['postgres://u:SECRETVALUE@h', 'database is required'],
      ['postgres://:SECRETVALUE@h/d', 'user is required'],
      ['postgres://u:SECRETVALUE@h/d?host=/var/run', 'the only URL parameter accepted is sslmode'],
      ['postgres://u:SECRETVALUE@h/d?sslmode=prefer', 'sslmode must be one of disable, require, verify-full'],
      ['postgres://u:SECRETVALUE@h:99999/d', 'expected postgres://user:password@host:port/database or a JSON object'],
      ['postgres://u:SECRETVALUE%@h/d', 'the password is not correctly percent-encoded'],
      ['{"host": "/tmp", "user": "u", "database": "d", "password": "SECRETVALUE"}', 'host must be a host name or an IP address (unix sockets are not supported)'],
      ['{"host": "h", "user": "u", "database": "d", "passwd": "SECRETVALUE"}', 'unknown JSON field (accepted: host, port, database, user, password, sslmode)'],
      ['{"host": "h", "user": "u", "database": "d", "port": 0}', 'port must be a number from 1 to 65535'],
      ['{SECRETVALUE', 'it starts with "{" but is not valid JSON'],
    ]
    for (const [secret, why] of cases) {
      assert.throws(() => parseSecret(secret), {message: `postgres: the credential's secret POSTGRES_URL is invalid: ${why}`}, secret)
    }
  })

  it('scrubs the whole secret and the password in each spelling', () => {
    const url = 'postgres://u:p%40ss%22w@h/d'
    const scrub = makeScrubber(url)
    assert.equal(scrub(`a ${url} b p@ss"w c p%40ss%22w d p@ss\\"w`), 'a [REDACTED] b [REDACTED] c [REDACTED] d [REDACTED]')
    assert.equal(makeScrubber('not a url SECRET')('x not a url SECRET y'), 'x [REDACTED] y')
  })
})

describe('aivault-plugin-postgres registry', () => {
  it("registry/postgres.yaml passes aivault's provider schema and rules", () => {
    const {default: Ajv} = require('ajv')
    const YAML = require('yaml')
    const {checkProvider} = require(path.join(ROOT, 'src', 'registry', 'rules'))
    const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'registry', 'schema', 'registry-provider.schema.json'), 'utf8'))
    const validate = new Ajv({allErrors: true, strict: true}).compile(schema)
    const def = YAML.parse(fs.readFileSync(path.join(__dirname, '..', 'registry', 'postgres.yaml'), 'utf8'))
    assert.equal(validate(def), true, JSON.stringify(validate.errors))
    assert.deepEqual(checkProvider('postgres.yaml', def, 'postgres.yaml'), [])
    assert.deepEqual(def.auth, {plugin: {}})
    assert.deepEqual(def.vaultSecrets, {POSTGRES_URL: 'secret'})
    const {ROUTES} = require('../lib/requests')
    assert.deepEqual(def.capabilities.map((c) => c.id).sort(), Object.keys(ROUTES).sort())
    for (const capability of def.capabilities) {
      assert.equal(capability.transport, 'plugin')
      assert.deepEqual(capability.allow.methods, [ROUTES[capability.id].method], capability.id)
    }
  })
})

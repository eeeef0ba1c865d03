/**
 * The effective upstream host (SPEC §7 step 6) and the AIVAULT_DEV_* test overrides (SPEC §14,
 * §15 "Test overrides"): exactly one exact host on port 443 unless a testing vault allows
 * ports; overrides are refused, naming the variable, outside vaults created with --testing.
 */
import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import type {ResolvedCapability} from '../../src/broker/credential/capabilities'
import {effectiveHost} from '../../src/broker/credential/hosts'
import type {ResolvedCredential} from '../../src/broker/credential/resolve-credential'
import {readTestOverrides} from '../../src/broker/request/test-mode'
import {AivaultError} from '../../src/errors'

function throwsCode(fn: () => unknown, code: string, label?: string): AivaultError {
  let caught: unknown
  try {
    fn()
  } catch (error) {
    caught = error
  }
  assert.ok(caught instanceof AivaultError, `${label ?? ''}: expected an AivaultError, got ${String(caught)}`)
  assert.equal(caught.code, code, `${label ?? ''}: ${caught.message}`)
  return caught
}

function credential(hosts: string[], id = 'cred'): ResolvedCredential {
  return {id, provider: 'example', auth: {header: {header_name: 'authorization', value_template: 'Bearer {{secret}}'}}, hosts, secrets: {secret: 'secret-id'}, binding: null}
}

function capability(hosts: string[], id = 'example/cap'): ResolvedCapability {
  return {id, provider: 'example', allow: {hosts, methods: ['GET'], pathPrefixes: ['/']}, custom: false}
}

describe('broker/hosts: effectiveHost', () => {
  it('returns the one host both sides allow, on port 443', () => {
    assert.deepEqual(effectiveHost(credential(['api.openai.com']), capability(['api.openai.com']), false), {host: 'api.openai.com', port: 443})
  })

  it('intersects the credential hosts with the capability hosts', () => {
    const cred = credential(['api.example.com', 'uploads.example.com'])
    assert.deepEqual(effectiveHost(cred, capability(['uploads.example.com']), false), {host: 'uploads.example.com', port: 443})
    assert.deepEqual(effectiveHost(cred, capability(['api.example.com', 'other.example.net']), false), {host: 'api.example.com', port: 443})
  })

  it('narrows a registry wildcard to the credential tenant host', () => {
    assert.deepEqual(effectiveHost(credential(['my-store.myshopify.com']), capability(['*.myshopify.com']), false), {host: 'my-store.myshopify.com', port: 443})
    assert.deepEqual(effectiveHost(credential(['*.myshopify.com']), capability(['my-store.myshopify.com']), false), {host: 'my-store.myshopify.com', port: 443})
  })

  it('compares host names case-insensitively and returns them lower-cased', () => {
    assert.deepEqual(effectiveHost(credential(['API.Example.COM']), capability(['api.example.com']), false), {host: 'api.example.com', port: 443})
  })

  it('refuses when no host is left, with policy_violation', () => {
    throwsCode(() => effectiveHost(credential(['api.example.com']), capability(['api.other.com']), false), 'policy_violation', 'disjoint')
    throwsCode(() => effectiveHost(credential(['a.b.myshopify.com']), capability(['*.myshopify.com']), false), 'policy_violation', 'two labels')
    throwsCode(() => effectiveHost(credential(['myshopify.com']), capability(['*.myshopify.com']), false), 'policy_violation', 'bare suffix')
    throwsCode(() => effectiveHost(credential([]), capability(['api.example.com']), false), 'policy_violation', 'no credential hosts')
  })

  it('refuses more than one host, with policy_violation', () => {
    const error = throwsCode(
      () => effectiveHost(credential(['a.myshopify.com', 'b.myshopify.com']), capability(['*.myshopify.com']), false),
      'policy_violation',
      'two tenants',
    )
    assert.match(error.message, /a\.myshopify\.com/)
    assert.match(error.message, /b\.myshopify\.com/)
    throwsCode(() => effectiveHost(credential(['a.example.com', 'b.example.com']), capability(['a.example.com', 'b.example.com']), false), 'policy_violation', 'two exact')
  })

  it('refuses a wildcard left over (a credential never narrowed to a tenant), with policy_violation', () => {
    const error = throwsCode(() => effectiveHost(credential(['*.myshopify.com']), capability(['*.myshopify.com']), false), 'policy_violation', 'wildcard')
    assert.match(error.message, /\*\.myshopify\.com/)
    assert.match(error.hint ?? '', /--host/)
  })

  it('refuses a non-default port unless ports are allowed', () => {
    throwsCode(() => effectiveHost(credential(['localhost:8443']), capability(['localhost']), false), 'policy_violation', 'localhost:8443')
    throwsCode(() => effectiveHost(credential(['api.example.com:80']), capability(['api.example.com']), false), 'policy_violation', ':80')
    assert.deepEqual(effectiveHost(credential(['localhost:8443']), capability(['localhost']), true), {host: 'localhost', port: 8443})
    assert.deepEqual(effectiveHost(credential(['api.example.com:9443']), capability(['api.example.com']), true), {host: 'api.example.com', port: 9443})
  })

  it('accepts an explicit :443 without the allowance', () => {
    assert.deepEqual(effectiveHost(credential(['api.example.com:443']), capability(['api.example.com']), false), {host: 'api.example.com', port: 443})
  })

  it('handles bracketed IPv6 literals with ports in a testing vault', () => {
    assert.deepEqual(effectiveHost(credential(['[::1]:8443']), capability(['[::1]']), true), {host: '::1', port: 8443})
    throwsCode(() => effectiveHost(credential(['[::1]:8443']), capability(['[::1]']), false), 'policy_violation', '[::1]:8443 without ports')
  })
})

describe('broker/test-mode: readTestOverrides', () => {
  const VARIABLES = ['AIVAULT_DEV_RESOLVE', 'AIVAULT_DEV_CA_CERT_PATH', 'AIVAULT_DEV_ALLOW_NON_DEFAULT_PORTS', 'AIVAULT_DEV_ALLOW_PRIVATE_UPSTREAMS']
  const SAMPLE: Record<string, string> = {
    AIVAULT_DEV_RESOLVE: 'api.openai.com=127.0.0.1:8443',
    AIVAULT_DEV_CA_CERT_PATH: '/nonexistent/ca.pem',
    AIVAULT_DEV_ALLOW_NON_DEFAULT_PORTS: '1',
    AIVAULT_DEV_ALLOW_PRIVATE_UPSTREAMS: '1',
  }

  it('returns no overrides when none are set, in any vault', () => {
    for (const testing of [true, false]) {
      const out = readTestOverrides({PATH: '/usr/bin', HOME: '/home/x'}, testing)
      assert.equal(out.resolve.size, 0)
      assert.equal(out.allowNonDefaultPorts, false)
      assert.equal(out.allowPrivateUpstreams, false)
      assert.equal(out.caCert, undefined)
    }
  })

  it('refuses each variable outside a testing vault with invalid_request naming it', () => {
    for (const name of VARIABLES) {
      const error = throwsCode(() => readTestOverrides({[name]: SAMPLE[name]}, false), 'invalid_request', name)
      assert.ok(error.message.includes(name), `${name} not named in: ${error.message}`)
      assert.ok(!error.message.includes(SAMPLE[name]) || name === 'AIVAULT_DEV_ALLOW_NON_DEFAULT_PORTS' || name === 'AIVAULT_DEV_ALLOW_PRIVATE_UPSTREAMS', 'the value is not needed')
    }
  })

  it('refuses all of them together outside a testing vault', () => {
    throwsCode(() => readTestOverrides({...SAMPLE}, false), 'invalid_request', 'all')
  })

  it('refuses "0" and other values too outside a testing vault (presence is enough)', () => {
    throwsCode(() => readTestOverrides({AIVAULT_DEV_ALLOW_PRIVATE_UPSTREAMS: '0'}, false), 'invalid_request', 'ALLOW_PRIVATE=0')
    throwsCode(() => readTestOverrides({AIVAULT_DEV_ALLOW_NON_DEFAULT_PORTS: 'true'}, false), 'invalid_request', 'ALLOW_PORTS=true')
  })

  it('parses AIVAULT_DEV_RESOLVE in a testing vault, IPv4 and bracketed IPv6', () => {
    const out = readTestOverrides({AIVAULT_DEV_RESOLVE: 'api.openai.com=127.0.0.1:8443,Api.Anthropic.COM=[::1]:9443'}, true)
    assert.equal(out.resolve.size, 2)
    assert.deepEqual(out.resolve.get('api.openai.com'), {address: '127.0.0.1', port: 8443})
    assert.deepEqual(out.resolve.get('api.anthropic.com'), {address: '::1', port: 9443})
  })

  it('tolerates spaces around entries and empty entries', () => {
    const out = readTestOverrides({AIVAULT_DEV_RESOLVE: ' a.example.com=10.0.0.1:1 , ,b.example.com=[fd00::1]:65535,'}, true)
    assert.deepEqual(out.resolve.get('a.example.com'), {address: '10.0.0.1', port: 1})
    assert.deepEqual(out.resolve.get('b.example.com'), {address: 'fd00::1', port: 65535})
  })

  it('refuses malformed AIVAULT_DEV_RESOLVE entries with invalid_request', () => {
    const bad = [
      'api.openai.com',
      'api.openai.com=127.0.0.1',
      'api.openai.com=127.0.0.1:',
      'api.openai.com=127.0.0.1:port',
      '=127.0.0.1:8443',
      'api.openai.com=::1:8443',
      'api.openai.com=[::1]',
      'api.openai.com=127.0.0.1:8443,broken',
    ]
    for (const value of bad) {
      const error = throwsCode(() => readTestOverrides({AIVAULT_DEV_RESOLVE: value}, true), 'invalid_request', value)
      assert.match(error.message, /AIVAULT_DEV_RESOLVE/)
    }
  })

  it('refuses AIVAULT_DEV_RESOLVE targets that are not IP addresses (host=ip:port)', () => {
    for (const value of ['api.openai.com=localhost:8443', 'api.openai.com=evil.example:443', 'api.openai.com=[not-ip]:443', 'api.openai.com=999.1.1.1:443']) {
      throwsCode(() => readTestOverrides({AIVAULT_DEV_RESOLVE: value}, true), 'invalid_request', value)
    }
  })

  it('refuses AIVAULT_DEV_RESOLVE ports outside 1-65535', () => {
    for (const value of ['api.openai.com=127.0.0.1:0', 'api.openai.com=127.0.0.1:65536', 'api.openai.com=127.0.0.1:99999']) {
      throwsCode(() => readTestOverrides({AIVAULT_DEV_RESOLVE: value}, true), 'invalid_request', value)
    }
  })

  it('reads the allowance flags only when set to "1"', () => {
    const on = readTestOverrides({AIVAULT_DEV_ALLOW_NON_DEFAULT_PORTS: '1', AIVAULT_DEV_ALLOW_PRIVATE_UPSTREAMS: '1'}, true)
    assert.equal(on.allowNonDefaultPorts, true)
    assert.equal(on.allowPrivateUpstreams, true)
    assert.equal(on.resolve.size, 0)
    const off = readTestOverrides({AIVAULT_DEV_ALLOW_NON_DEFAULT_PORTS: '0', AIVAULT_DEV_ALLOW_PRIVATE_UPSTREAMS: 'yes'}, true)
    assert.equal(off.allowNonDefaultPorts, false)
    assert.equal(off.allowPrivateUpstreams, false)
  })

  it('reads the CA certificate file, and refuses an unreadable one naming the variable', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-testmode-'))
    try {
      const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
      const file = path.join(dir, 'ca.pem')
      fs.writeFileSync(file, pem)
      assert.equal(readTestOverrides({AIVAULT_DEV_CA_CERT_PATH: file}, true).caCert, pem)
      const error = throwsCode(() => readTestOverrides({AIVAULT_DEV_CA_CERT_PATH: path.join(dir, 'missing.pem')}, true), 'invalid_request', 'missing CA')
      assert.match(error.message, /AIVAULT_DEV_CA_CERT_PATH/)
    } finally {
      fs.rmSync(dir, {recursive: true, force: true})
    }
  })
})

/**
 * What commands read from their flags before touching the vault (src/cli/secret-ref.ts,
 * hosts.ts, binding-flags.ts, flags.ts): a malformed command line is a usage error (exit 2)
 * naming the flag, and never echoes a value that may be a secret.
 */
import assert from 'node:assert/strict'

import {bindingScopeFlags, bindingScope} from '../../src/cli/binding-flags'
import {checkSecretNames, parseScope, splitKeyValue} from '../../src/cli/flags'
import {parseCapabilityHosts, parseCredentialHosts} from '../../src/cli/hosts'
import {parseSecretRef} from '../../src/cli/secret-ref'
import {AivaultError} from '../../src/errors'

const usage = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (error: unknown) => error instanceof AivaultError && error.code === 'invalid_request' && error.exitCode === 2 && pattern.test(error.message))

describe('cli/secret-ref: parseSecretRef', () => {
  it('addresses a secret by --id, or by --name with or without scope flags', () => {
    assert.deepEqual(parseSecretRef({id: 'sec_1'}), {id: 'sec_1'})
    assert.deepEqual(parseSecretRef({name: 'OPENAI_API_KEY'}), {name: 'OPENAI_API_KEY', scope: undefined})
    assert.deepEqual(parseSecretRef({name: 'K', 'workspace-id': 'w1'}), {name: 'K', scope: {type: 'workspace', workspaceId: 'w1'}})
    assert.deepEqual(parseSecretRef({name: 'K', 'workspace-id': 'w1', 'group-id': 'g1'}), {name: 'K', scope: {type: 'group', workspaceId: 'w1', groupId: 'g1'}})
    assert.deepEqual(parseSecretRef({name: 'K', scope: 'global'}), {name: 'K', scope: {type: 'global'}})
  })

  it('needs exactly one of --id and --name, and no scope flags with --id', () => {
    usage(() => parseSecretRef({}), /^a secret is required$/)
    usage(() => parseSecretRef({id: 'sec_1', name: 'K'}), /^use --id or --name, not both$/)
    usage(() => parseSecretRef({id: 'sec_1', scope: 'global'}), /^--id needs no scope flags$/)
    usage(() => parseSecretRef({id: 'sec_1', 'group-id': 'g'}), /^--id needs no scope flags$/)
  })

  it('refuses an invalid name and a scope that does not add up', () => {
    usage(() => parseSecretRef({name: '1BAD'}), /^--name "1BAD" is not a valid secret name$/)
    usage(() => parseSecretRef({name: 'K', scope: 'workspace'}), /^--scope workspace needs --workspace-id$/)
    usage(() => parseSecretRef({name: 'K', scope: 'global', 'workspace-id': 'w'}), /takes no --workspace-id/)
    usage(() => parseSecretRef({name: 'K', scope: 'group', 'workspace-id': 'w'}), /needs --workspace-id and --group-id/)
    usage(() => parseSecretRef({name: 'K', 'workspace-id': 'has space'}), /^--workspace-id "has space" is not a valid workspace id$/)
  })
})

describe('cli/flags: scope, names and KEY=VALUE', () => {
  it('derives the scope from the ids when --scope is left out', () => {
    assert.deepEqual(parseScope({}), {type: 'global'})
    assert.deepEqual(parseScope({'workspace-id': 'w'}), {type: 'workspace', workspaceId: 'w'})
    assert.deepEqual(parseScope({'workspace-id': 'w', 'group-id': 'g'}), {type: 'group', workspaceId: 'w', groupId: 'g'})
    usage(() => parseScope({scope: 'team'}), /^unknown scope "team"$/)
  })

  it('checks a name and its aliases, refusing an alias that repeats the name', () => {
    assert.deepEqual(checkSecretNames('KEY', ['OTHER', 'ALT']), {name: 'KEY', aliases: ['OTHER', 'ALT']})
    usage(() => checkSecretNames('KEY', ['KEY']), /^--alias KEY repeats the secret's name$/)
    usage(() => checkSecretNames('KEY', ['bad alias']), /^--alias "bad alias" is not a valid secret name$/)
  })

  it('splits KEY=VALUE at the first "=", and refuses a value without a name without echoing it', () => {
    assert.deepEqual(splitKeyValue('A=b=c', '--header', 1), ['A', 'b=c'])
    assert.deepEqual(splitKeyValue('A=', '--header', 1), ['A', ''])
    usage(() => splitKeyValue('sk-live-SECRET', '--header', 3), /^--header number 3 is not KEY=VALUE \(no "=" after a name\)$/)
    usage(() => splitKeyValue('=sk-live-SECRET', '--header', 1), /^--header number 1 is not KEY=VALUE/)
  })
})

describe('cli/hosts: --host values', () => {
  it('credential hosts: exact names, normalized to lower case without a trailing dot', () => {
    assert.deepEqual(parseCredentialHosts(['API.OpenAI.com', 'api.example.com.'], {}), ['api.openai.com', 'api.example.com'])
  })

  it('credential hosts: no wildcard, no port unless the dev override allows one, and a real host name', () => {
    usage(() => parseCredentialHosts(['*.openai.com'], {}), /wildcards are refused/)
    usage(() => parseCredentialHosts(['api.openai.com:8443'], {}), /upstreams use port 443/)
    assert.deepEqual(parseCredentialHosts(['127.0.0.1:8443', 'Localhost:1'], {AIVAULT_DEV_ALLOW_NON_DEFAULT_PORTS: '1'}), ['127.0.0.1:8443', 'localhost:1'])
    usage(() => parseCredentialHosts(['api.openai.com:0'], {AIVAULT_DEV_ALLOW_NON_DEFAULT_PORTS: '1'}), /is not a host name/)
    usage(() => parseCredentialHosts(['api.openai.com:65536'], {AIVAULT_DEV_ALLOW_NON_DEFAULT_PORTS: '1'}), /is not a host name/)
    usage(() => parseCredentialHosts(['https://api.openai.com'], {}), /is not a host name/)
    usage(() => parseCredentialHosts(['api openai'], {}), /is not a host name/)
  })

  it('capability hosts: names and *.suffix patterns (two labels at least), IP literals for testing vaults', () => {
    assert.deepEqual(parseCapabilityHosts(['API.example.com', '*.s3.amazonaws.com', '127.0.0.1', '[::1]']), ['api.example.com', '*.s3.amazonaws.com', '127.0.0.1', '[::1]'])
  })

  it('capability hosts: never a lone wildcard, a port or a malformed name', () => {
    usage(() => parseCapabilityHosts(['*']), /a lone wildcard would allow every host/)
    usage(() => parseCapabilityHosts(['*.']), /a lone wildcard/)
    usage(() => parseCapabilityHosts(['api.example.com:443']), /a capability names hosts, not ports/)
    usage(() => parseCapabilityHosts(['[::1]:8443']), /not ports/)
    usage(() => parseCapabilityHosts(['*.com']), /is not a valid DNS name/)
    usage(() => parseCapabilityHosts(['api_example!.com']), /is not a valid DNS name/)
  })
})

describe('cli/binding-flags: bindingScope', () => {
  it('returns the four parts of a binding', () => {
    assert.deepEqual(bindingScope({capability: 'openai/models'}), {capability: 'openai/models', workspaceId: undefined, groupId: undefined, consumer: undefined})
    assert.deepEqual(bindingScope({capability: 'openai/models', 'workspace-id': 'w', 'group-id': 'g', consumer: 'agent-1'}), {capability: 'openai/models', workspaceId: 'w', groupId: 'g', consumer: 'agent-1'})
    assert.ok(bindingScopeFlags.capability.required)
  })

  it('refuses a group without its workspace, and malformed ids, naming the flag', () => {
    usage(() => bindingScope({capability: 'openai/models', 'group-id': 'g'}), /^--group-id needs --workspace-id$/)
    usage(() => bindingScope({capability: 'Not A Capability'}), /^--capability /)
    usage(() => bindingScope({capability: 'openai/models', consumer: 'line\nbreak'}), /^--consumer /)
    assert.equal(bindingScope({capability: 'openai/models', consumer: 'a consumer name'}).consumer, 'a consumer name')
  })
})

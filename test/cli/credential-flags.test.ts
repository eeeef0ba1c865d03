/** What `credential create` and `token mint` parse in src/cli: secret refs and the workspace/group they serve. */
import assert from 'node:assert/strict'

import {parseTenantTarget} from '../../src/cli/flags'
import {parseCredentialSecretRefs} from '../../src/cli/secret-ref'
import {AivaultError} from '../../src/errors'

const A = '0f8e2c1a-3b4d-4e5f-8a9b-0c1d2e3f4a5b'
const B = '1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d'
const usage = (pattern: RegExp) => (error: unknown) => error instanceof AivaultError && error.code === 'invalid_request' && error.exitCode === 2 && pattern.test(error.message)

describe('cli: credential flags', () => {
  it('parses --secret-ref with and without a placeholder', () => {
    assert.deepEqual(parseCredentialSecretRefs([`vault:secret:${A}`, `API_KEY=vault:secret:${B}`]), [
      {placeholder: undefined, secretId: A},
      {placeholder: 'API_KEY', secretId: B},
    ])
  })

  it('refuses a --secret-ref that is not vault:secret:<id> as a usage error', () => {
    for (const raw of [A, 'vault:secret:', 'vault:secret:abc123', 'KEY=', `KEY=secret:${A}`]) {
      assert.throws(() => parseCredentialSecretRefs([raw]), usage(/is not vault:secret:<id>/), raw)
    }
  })

  it('parses --workspace-id and --group-id, and refuses a group without its workspace', () => {
    assert.deepEqual(parseTenantTarget({}), {workspaceId: undefined, groupId: undefined})
    assert.deepEqual(parseTenantTarget({'workspace-id': 'w1', 'group-id': 'g1'}), {workspaceId: 'w1', groupId: 'g1'})
    assert.throws(() => parseTenantTarget({'group-id': 'g1'}), usage(/--group-id needs --workspace-id/))
    assert.throws(() => parseTenantTarget({'workspace-id': 'bad name!'}), (error: unknown) => error instanceof AivaultError && /--workspace-id/.test(error.message))
  })
})

/**
 * A scope's two text forms (src/vault/scope.ts): scopeKey is sealed into every secret's
 * associated data and must never change; scopeLabel is the one form people read.
 */
import * as assert from 'node:assert/strict'

import type {SecretScope} from '../../src/vault/scope'
import {GLOBAL_SCOPE, scopeKey, scopeLabel, scopeOfIds} from '../../src/vault/scope'

const WORKSPACE: SecretScope = {type: 'workspace', workspaceId: 'team'}
const GROUP: SecretScope = {type: 'group', workspaceId: 'team', groupId: 'backend'}

describe('vault/scope: text forms', () => {
  it('scopeKey keeps the form sealed into existing vaults', () => {
    assert.deepEqual([GLOBAL_SCOPE, WORKSPACE, GROUP].map(scopeKey), ['global', 'workspace:team', 'group:team:backend'])
  })

  it('scopeLabel is global, workspace:<w> and group:<w>/<g>', () => {
    assert.deepEqual([GLOBAL_SCOPE, WORKSPACE, GROUP].map(scopeLabel), ['global', 'workspace:team', 'group:team/backend'])
  })

  it('scopeOfIds reads a record\'s workspace and group ids as a scope', () => {
    assert.deepEqual(scopeOfIds(null, null), GLOBAL_SCOPE)
    assert.deepEqual(scopeOfIds('team', null), WORKSPACE)
    assert.deepEqual(scopeOfIds('team', 'backend'), GROUP)
    assert.equal(scopeLabel(scopeOfIds(null, 'backend')), 'group:/backend', 'a group without its workspace is never shown as wider')
  })
})

/**
 * The invocation context a daemon frame carries (src/broker/request/refusals.ts parseContext): only
 * the known fields, each valid by its rule, so nothing unchecked reaches the broker or the log.
 */
import assert from 'node:assert/strict'

import {parseContext} from '../../src/broker/request/refusals'
import {AivaultError} from '../../src/errors'

const refused = (raw: unknown, pattern: RegExp) =>
  assert.throws(() => parseContext(raw), (error: unknown) => error instanceof AivaultError && error.code === 'invalid_request' && pattern.test(error.message))

describe('broker/refusals parseContext', () => {
  it('accepts the four fields, drops null ones, and an absent context is empty', () => {
    assert.deepEqual(parseContext({workspaceId: 'w1', groupId: 'g1', consumer: 'agent 7', clientIp: '::1'}), {workspaceId: 'w1', groupId: 'g1', consumer: 'agent 7', clientIp: '::1'})
    assert.deepEqual(parseContext({workspaceId: 'w1', groupId: null}), {workspaceId: 'w1'})
    assert.deepEqual(parseContext(undefined), {})
  })

  it('refuses unknown fields, wrong types, names that break their rule and a group without a workspace', () => {
    refused([], /must be an object/)
    refused({tenant: 'x'}, /unknown field "tenant"/)
    refused({consumer: 7}, /context.consumer must be a string/)
    refused({consumer: 'c'.repeat(257)}, /context.consumer \(257 characters\) is longer than 256/)
    refused({workspaceId: 'a b'}, /context.workspaceId "a b" is not a valid workspace id/)
    refused({clientIp: 'localhost'}, /not an IP address/)
    refused({groupId: 'g'}, /needs context.workspaceId/)
  })
})

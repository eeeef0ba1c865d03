/**
 * Proxy-token expiry (src/server/proxy-tokens.ts) with the clock moved instead of waited for:
 * serve remembers a token's answer while run/tokens/ is unchanged, and the expiry must still
 * be judged on every call (docs/decisions/007). The e2e test (serve.test.ts) refuses a token
 * whose record expired; this one lets time pass over a remembered answer.
 */
import * as assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {AivaultError} from '../../src/errors'
import {checkToken, mintToken} from '../../src/server/proxy-tokens'
import {longLivedMode} from '../../src/run-mode'
import {resolveVaultPaths} from '../../src/vault/store/paths'
import {recordsVersion, stopWatching, watchFolders} from '../../src/vault/store/stat-cache'
import {Vault} from '../../src/vault/vault'

describe('server/proxy-tokens: expiry over a remembered answer', () => {
  const realNow = Date.now
  let base: string

  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-tokens-unit-'))
  })

  afterEach(() => {
    Date.now = realNow
    stopWatching()
    fs.rmSync(base, {recursive: true, force: true})
  })

  it('a token valid a moment ago is token_invalid once the clock passes its expiry, with run/tokens/ unchanged', async () => {
    const env = {AIVAULT_DIR: path.join(base, 'vault'), AIVAULT_KEYS_DIR: path.join(base, 'keys'), AIVAULT_DISABLE_DISK_LOGS: '1'}
    const vault = new Vault(resolveVaultPaths(env), env, {mode: longLivedMode(20)})
    const {token, record} = await mintToken(vault, {capabilities: ['openai/models'], credential: null, workspaceId: null, groupId: null, consumer: null, ttlMs: 60_000})
    const tokens = path.join(vault.paths.runDir, 'tokens')
    watchFolders(vault.paths.root, [tokens])
    const version = recordsVersion()
    assert.notEqual(version, undefined, 'the tokens folder is not watched, so nothing is remembered')

    assert.equal(checkToken(vault, token).id, record.id)
    assert.equal(checkToken(vault, token).id, record.id, 'the remembered answer')
    const expiresAt = Date.parse(record.expiresAt)
    Date.now = () => expiresAt + 1
    assert.throws(() => checkToken(vault, token), (error: unknown) => error instanceof AivaultError && error.code === 'token_invalid')
    assert.equal(recordsVersion(), version, 'the folder changed, so this did not test the remembered answer')
  })
})

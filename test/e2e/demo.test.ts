import {strict as assert} from 'node:assert'
import * as fs from 'node:fs'
import * as os from 'node:os'

import {parseJson, useTempVault} from './fixture'

describe('e2e: aivault demo', () => {
  const vault = useTempVault()

  it('injects the key upstream, never shows it to the caller, refuses every bad attempt, and cleans up', async () => {
    const v = vault()
    const before = new Set(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('aivault-demo-')))
    const result = await v.runAsync(['demo', '--json'])
    assert.equal(result.status, 0, result.stderr)
    const out = parseJson(result)
    assert.equal(out.invoked.status, 200)
    assert.equal(out.invoked.upstreamSawAuth, true, 'the embedded API received the real key')
    assert.equal(out.invoked.callerSawKey, false, 'the caller never saw it')
    assert.equal(out.refused.length, 4)
    for (const r of out.refused) assert.equal(r.code, 'policy_violation', r.attempt)
    const after = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('aivault-demo-') && !before.has(n))
    assert.deepEqual(after, [], 'the throwaway vault is removed')
    assert.equal(fs.existsSync(v.root), false, "the user's own vault is never touched")
  })

  it('prints a readable tour whose key never appears', async () => {
    const v = vault()
    const result = await v.runAsync(['demo'])
    assert.equal(result.status, 0, result.stderr)
    assert.match(result.stdout, /Secret created: OPENAI_API_KEY \(pinned to provider: openai\)/)
    assert.match(result.stdout, /Credential auto-provisioned: openai \(\d+ capabilities enabled\)/)
    assert.match(result.stdout, /requests that reached the API: 0/)
    assert.doesNotMatch(result.stdout + result.stderr, /sk-demo-/)
  })
})

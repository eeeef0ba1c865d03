import {strict as assert} from 'node:assert'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {expectJsonError, parseJson, useTempVault} from './fixture'

describe('e2e: rotate-master re-runs and key ids', () => {
  const vault = useTempVault()

  it('re-running a finished env rotation with the new key is a no-op success', () => {
    const v = vault()
    const oldKey = v.ok(['keygen']).trim()
    const newKey = v.ok(['keygen']).trim()
    v.ok(['init', '--provider', 'env'], {env: {AIVAULT_KEY: oldKey}})
    v.ok(['secrets', 'create', '--name', 'MY_KEY', '--value-stdin'], {env: {AIVAULT_KEY: oldKey}, input: 'rotate-me-value'})
    const first = parseJson(v.run(['rotate-master', '--new-key', newKey, '--json'], {env: {AIVAULT_KEY: oldKey}}))
    assert.equal(first.rewrapped, 1)
    assert.equal(first.resumed, false)
    const again = v.run(['rotate-master', '--new-key', newKey, '--json'], {env: {AIVAULT_KEY: newKey}})
    assert.equal(again.status, 0, again.stdout + again.stderr)
    const out = parseJson(again)
    assert.equal(out.rewrapped, 0)
    assert.equal(out.kekId, first.kekId)
    assert.equal(fs.existsSync(path.join(v.root, 'run', 'rotation.json')), false, 'no rotation bridge is left behind')
    // The old key is no longer this vault's key.
    expectJsonError(v.run(['secrets', 'create', '--name', 'X', '--value', 'y', '--json'], {env: {AIVAULT_KEY: oldKey}}), 1, 'vault_unavailable')
  })

  it("an edited kekId in vault.yaml is vault_tampered, not a wrong-key error", () => {
    const v = vault()
    v.createSecret('MY_KEY', 'some-value')
    const file = path.join(v.root, 'vault.yaml')
    const text = fs.readFileSync(file, 'utf8')
    fs.writeFileSync(file, text.replace(/^kekId: .*$/m, 'kekId: abcdef0123456789'))
    const err = expectJsonError(v.run(['secrets', 'create', '--name', 'OTHER', '--value', 'x', '--json']), 1, 'vault_tampered')
    assert.match(err.message, /vault\.yaml/)
    const report = parseJson(v.run(['doctor', '--json']))
    assert.equal(report.ok, false)
    assert.ok(report.findings.some((f: {file?: string; code?: string}) => f.file === 'vault.yaml' && f.code === 'vault_tampered'), JSON.stringify(report.findings))
  })

  it('doctor reports an unparseable vault.yaml as a finding instead of failing', () => {
    const v = vault()
    v.createSecret('MY_KEY', 'some-value')
    const file = path.join(v.root, 'vault.yaml')
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/^kekId: .*$/m, 'kekId: 0011223344556677'))
    const result = v.run(['doctor', '--json'])
    assert.equal(result.status, 1)
    const report = parseJson(result)
    assert.equal(report.ok, false)
    const finding = report.findings.find((f: {file?: string}) => f.file === 'vault.yaml')
    assert.equal(finding?.code, 'vault_tampered')
    assert.match(finding.problem, /invalid kekId/)
  })
})

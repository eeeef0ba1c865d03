/**
 * Issue 16 item 12: `status` and `doctor` report the same permission problems, and name the
 * vault root by its path (never ".").
 */
import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {useTempVault} from './fixture'

describe('e2e: status and doctor agree on permissions', () => {
  const vault = useTempVault()

  it('lists the same loose files and folders, the root by its path, until doctor --fix tightens them', () => {
    const tv = vault()
    tv.ok(['init'])
    const id = tv.createSecret('PERM_TEST', 'value-1')
    assert.deepEqual(tv.json(['status']).permissionWarnings, [])
    fs.chmodSync(tv.root, 0o755)
    fs.chmodSync(path.join(tv.root, 'secrets', `${id}.yaml`), 0o644)
    fs.chmodSync(path.join(tv.root, 'vault.yaml'), 0o644)

    const fromStatus = [...tv.json(['status']).permissionWarnings].sort()
    const doctor = tv.run(['doctor', '--json'])
    assert.equal(doctor.status, 1)
    const fromDoctor = (JSON.parse(doctor.stdout).findings as Array<{check: string; file: string}>).filter((f) => f.check === 'permissions').map((f) => f.file).sort()
    assert.deepEqual(fromStatus, fromDoctor)
    assert.deepEqual(fromStatus, [tv.root, `secrets/${id}.yaml`, 'vault.yaml'].sort())
    assert.ok(!fromStatus.includes('.'))

    tv.ok(['doctor', '--fix'])
    assert.deepEqual(tv.json(['status']).permissionWarnings, [])
  })
})

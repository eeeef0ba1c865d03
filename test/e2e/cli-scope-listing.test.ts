/**
 * Issue 16 item 14 through the built CLI: `secrets list --scope workspace` alone lists every
 * workspace's secrets, and a dotenv file's multi-line quoted value imports whole.
 */
import * as assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {useTempVault} from './fixture'

describe('e2e: secrets list by scope kind, multi-line dotenv import (issue 16 item 14)', () => {
  const vault = useTempVault()

  it('--scope workspace without --workspace-id lists every workspace; --scope group likewise', () => {
    const tv = vault()
    tv.createSecret('G_KEY', 'v')
    tv.createSecret('A_KEY', 'v', ['--workspace-id', 'alpha'])
    tv.createSecret('B_KEY', 'v', ['--workspace-id', 'beta'])
    tv.createSecret('C_KEY', 'v', ['--workspace-id', 'alpha', '--group-id', 'backend'])
    const names = (args: string[]) => tv.json(['secrets', 'list', ...args]).secrets.map((s: {name: string}) => s.name)
    assert.deepEqual(names(['--scope', 'workspace']), ['A_KEY', 'B_KEY'])
    assert.deepEqual(names(['--scope', 'workspace', '--workspace-id', 'beta']), ['B_KEY'])
    assert.deepEqual(names(['--scope', 'group']), ['C_KEY'])
    assert.deepEqual(names(['--scope', 'group', '--workspace-id', 'beta']), [])
    assert.deepEqual(names(['--scope', 'global']), ['G_KEY'])
    assert.match(tv.ok(['secrets', 'list', '--scope', 'workspace']), /A_KEY +workspace:alpha .*\nB_KEY +workspace:beta .*\n2 secrets\n$/)
  })

  it('imports a multi-line double-quoted value from a dotenv file with its line breaks', () => {
    const tv = vault()
    const pem = '-----BEGIN TEST KEY-----\nAAAA\nBBBB\n-----END TEST KEY-----'
    const file = path.join(tv.base, '.env')
    fs.writeFileSync(file, `FIRST=1\nTLS_KEY="${pem}"\nLAST=2\n`)
    const out = tv.json(['secrets', 'import', '--from-env-file', file])
    assert.deepEqual(out.created, ['FIRST', 'TLS_KEY', 'LAST'])
    assert.deepEqual(out.skipped, [])
  })
})

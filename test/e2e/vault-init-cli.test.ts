/**
 * The vault folder, `aivault init` and `aivault status` end to end (SPEC §1, §2, §15), run
 * through the built CLI in temporary folders.
 */
import * as assert from 'node:assert/strict'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {parse as parseYaml} from 'yaml'

import {expectHumanError, expectJsonError, parseJson, useTempVault} from './fixture'
import {UUID} from './secrets-helpers'

describe('vault folder, init and status (SPEC §1, §2, §15)', () => {
  const vault = useTempVault()

  it('folders are 0700, files 0600, the key lives outside the vault, .gitignore keeps run/ audit/ *.tmp out', () => {
    const tv = vault()
    tv.ok(['init'])
    tv.ok(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value', 'sk-perm'])
    tv.ok(['secrets', 'attach-group', '--name', 'OPENAI_API_KEY', '--workspace-id', 'w', '--group-id', 'g'])
    const status = parseJson(tv.run(['status', '--json']))
    const walk = (dir: string, visit: (file: string, isDir: boolean) => void) => {
      for (const entry of fs.readdirSync(dir, {withFileTypes: true})) {
        const full = path.join(dir, entry.name)
        visit(full, entry.isDirectory())
        if (entry.isDirectory()) walk(full, visit)
      }
    }
    const seen: string[] = []
    const mode = (file: string) => (fs.statSync(file).mode & 0o777).toString(8)
    assert.equal(mode(tv.root), '700')
    walk(tv.root, (file, isDir) => {
      seen.push(path.relative(tv.root, file))
      assert.equal(mode(file), isDir ? '700' : '600', `${path.relative(tv.root, file)}`)
    })
    for (const expected of ['vault.yaml', '.gitignore', 'secrets', 'credentials', path.join('credentials', 'openai.yaml')]) {
      assert.ok(seen.includes(expected), `${expected} in ${seen.join(', ')}`)
    }

    const keyFile: string = status.paths.keyFile
    assert.equal(path.dirname(keyFile), path.resolve(tv.keysDir))
    assert.equal(path.basename(keyFile), `${status.vaultId}.key`)
    assert.ok(path.relative(path.resolve(tv.root), keyFile).startsWith('..'), 'key outside the vault')
    assert.equal(mode(keyFile), '600')
    const key = fs.readFileSync(keyFile, 'utf8').trim()
    assert.equal(Buffer.from(key, 'base64').length, 32)
    const vaultText: string[] = []
    walk(tv.root, (file, isDir) => {
      if (!isDir) vaultText.push(fs.readFileSync(file, 'latin1'))
    })
    assert.ok(!vaultText.join('\n').includes(key), 'the key is not inside the vault folder')

    const ignore = fs.readFileSync(path.join(tv.root, '.gitignore'), 'utf8').split('\n').map((l) => l.trim())
    for (const entry of ['run/', 'audit/', '*.tmp']) assert.ok(ignore.includes(entry), `.gitignore has ${entry}: ${ignore.join('|')}`)
  })

  it('status, lists and audit on a missing vault report it and create nothing', () => {
    const tv = vault()
    const result = tv.run(['status', '--json'])
    assert.equal(result.status, 0, result.stderr)
    const status = parseJson(result)
    assert.equal(status.initialized, false)
    for (const field of ['vaultId', 'provider', 'locked', 'kekId', 'testing', 'paths', 'counts', 'daemon']) assert.ok(field in status, field)
    assert.equal(status.paths.root, tv.root)
    assert.deepEqual(status.counts, {secrets: 0, credentials: 0, capabilities: 0})
    assert.equal(status.daemon.running, false)
    const human = tv.run(['status'])
    assert.equal(human.status, 0)
    assert.match(human.stdout + human.stderr, /aivault init/, 'a hint on how to create the vault')
    assert.deepEqual(parseJson(tv.run(['secrets', 'list', '--json'])), {secrets: []})
    assert.deepEqual(parseJson(tv.run(['credential', 'list', '--json'])), {credentials: []})
    assert.deepEqual(parseJson(tv.run(['audit', '--json'])).events, [])
    assert.ok(!fs.existsSync(tv.root), 'the vault folder was created by a read-only command')
    assert.ok(!fs.existsSync(tv.keysDir) || fs.readdirSync(tv.keysDir).length === 0, 'no key was made')
  })

  it('status on an initialized vault has the SPEC §15 shape', () => {
    const tv = vault()
    tv.ok(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value', 'sk-status'])
    tv.ok(['secrets', 'create', '--name', 'MY_KEY', '--value', 'mine'])
    const status = parseJson(tv.run(['status', '--json']))
    const config = parseYaml(fs.readFileSync(path.join(tv.root, 'vault.yaml'), 'utf8'))
    assert.equal(status.initialized, true)
    assert.equal(status.vaultId, config.vaultId)
    assert.match(status.vaultId, UUID)
    assert.equal(status.provider, 'file')
    assert.equal(status.locked, false)
    assert.equal(typeof status.kekId, 'string')
    assert.ok(status.kekId.length >= 8 && status.kekId.length <= 64)
    assert.equal(status.testing, false)
    assert.deepEqual(Object.keys(status.paths).sort(), ['keyFile', 'root'])
    assert.equal(status.paths.root, tv.root)
    assert.equal(status.paths.keyFile, path.join(tv.keysDir, `${status.vaultId}.key`))
    const key = fs.readFileSync(status.paths.keyFile, 'utf8').trim()
    assert.ok(!JSON.stringify(status).includes(key), 'status never shows the key')
    assert.equal(status.counts.secrets, 2)
    assert.equal(status.counts.credentials, 1)
    assert.ok(Number.isInteger(status.counts.capabilities))
    assert.equal(status.daemon.running, false)
    assert.equal(typeof status.daemon.socket, 'string')
  })

  it('init refuses to re-initialize (conflict, exit 1) and leaves the vault as it was', () => {
    const tv = vault()
    tv.ok(['init'])
    const before = tv.snapshot()
    const keys = fs.readdirSync(tv.keysDir)
    expectHumanError(tv.run(['init']), 1)
    expectJsonError(tv.run(['init', '--testing', '--json']), 1, 'conflict')
    assert.deepEqual(tv.snapshot(), before)
    assert.deepEqual(fs.readdirSync(tv.keysDir), keys)
  })

  it('init --testing marks the vault as a test vault', () => {
    const tv = vault()
    tv.ok(['init', '--testing'])
    assert.equal(parseJson(tv.run(['status', '--json'])).testing, true)
    assert.equal(parseYaml(fs.readFileSync(path.join(tv.root, 'vault.yaml'), 'utf8')).testing, true)
  })

  it('init --provider env needs a valid key in AIVAULT_KEY; keygen makes one', () => {
    const tv = vault()
    const key = tv.ok(['keygen']).trim()
    assert.equal(Buffer.from(key, 'base64').length, 32)
    assert.match(key, /^[A-Za-z0-9+/]{43}=$/)

    expectHumanError(tv.run(['init', '--provider', 'env']), 1)
    assert.ok(!fs.existsSync(path.join(tv.root, 'vault.yaml')))
    expectJsonError(tv.run(['init', '--provider', 'env', '--json'], {env: {AIVAULT_KEY: 'bm90LWEta2V5'}}), 1)
    assert.ok(!fs.existsSync(path.join(tv.root, 'vault.yaml')))

    tv.ok(['init', '--provider', 'env'], {env: {AIVAULT_KEY: key}})
    const created = tv.run(['secrets', 'create', '--name', 'ENV_SECRET', '--value', 'env-value', '--json'], {env: {AIVAULT_KEY: key}})
    assert.equal(created.status, 0, created.stderr)
    const status = parseJson(tv.run(['status', '--json'], {env: {AIVAULT_KEY: key}}))
    assert.equal(status.provider, 'env')
    assert.equal(status.locked, false)
    assert.equal(status.counts.secrets, 1)
    assert.ok(!tv.allText().includes(key), 'an env vault never writes its key to disk')
  })

  it('init --provider passphrase leaves the vault locked; secrets create fails with vault_locked', () => {
    const tv = vault()
    const passphrase = `pass-${crypto.randomBytes(8).toString('hex')}`
    tv.ok(['init', '--provider', 'passphrase', '--passphrase', passphrase])
    const status = parseJson(tv.run(['status', '--json']))
    assert.equal(status.provider, 'passphrase')
    assert.equal(status.locked, true)
    const before = tv.snapshot()
    expectJsonError(tv.run(['secrets', 'create', '--name', 'LOCKED_OUT', '--value', 'v', '--json']), 1, 'vault_locked')
    assert.deepEqual(tv.snapshot(), before)
    assert.ok(!tv.allText().includes(passphrase), 'the passphrase is never stored')
  })
})

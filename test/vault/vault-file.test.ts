/**
 * Files of the vault folder (src/vault/store/vault-file.ts, atomic-file.ts; SPEC §1 hardened, issue
 * 12 items 10 and 15): no open through a link, only regular files, a 1 MiB record cap, folders
 * on the way checked, chmod never through a link, and writes that survive short write(2)s.
 */
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {AivaultError} from '../../src/errors'
import {writeFileAtomic} from '../../src/vault/store/atomic-file'
import {chmodNoFollow, ensureVaultDir, MAX_RECORD_BYTES, readVaultFile} from '../../src/vault/store/vault-file'

function refusal(work: () => unknown): AivaultError {
  try {
    work()
  } catch (error) {
    assert.ok(error instanceof AivaultError, String(error))
    assert.equal(error.code, 'vault_tampered')
    return error
  }
  assert.fail('expected vault_tampered')
}

describe('vault files (src/vault/store/vault-file.ts)', () => {
  let base: string
  let root: string
  let outside: string

  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-vault-file-'))
    root = path.join(base, 'vault')
    outside = path.join(base, 'outside.txt')
    fs.mkdirSync(path.join(root, 'secrets'), {recursive: true})
    fs.writeFileSync(outside, 'outside bytes\n')
  })

  afterEach(() => fs.rmSync(base, {recursive: true, force: true}))

  describe('readVaultFile', () => {
    it('reads a regular file, and gives undefined for a missing one', () => {
      fs.writeFileSync(path.join(root, 'secrets', 'a.yaml'), 'id: a\n')
      assert.equal(readVaultFile(path.join(root, 'secrets', 'a.yaml'), 'secrets/a.yaml'), 'id: a\n')
      assert.equal(readVaultFile(path.join(root, 'secrets', 'none.yaml'), 'secrets/none.yaml'), undefined)
    })

    it('refuses a link, to a file or dangling, naming the file', () => {
      fs.symlinkSync(outside, path.join(root, 'secrets', 'link.yaml'))
      fs.symlinkSync(path.join(base, 'nowhere'), path.join(root, 'secrets', 'dangling.yaml'))
      assert.equal(refusal(() => readVaultFile(path.join(root, 'secrets', 'link.yaml'), 'secrets/link.yaml')).message, 'secrets/link.yaml: is a symbolic link')
      assert.equal(refusal(() => readVaultFile(path.join(root, 'secrets', 'dangling.yaml'), 'secrets/dangling.yaml')).message, 'secrets/dangling.yaml: is a symbolic link')
    })

    it('refuses a folder and a fifo without blocking', () => {
      fs.mkdirSync(path.join(root, 'secrets', 'dir.yaml'))
      assert.match(refusal(() => readVaultFile(path.join(root, 'secrets', 'dir.yaml'), 'secrets/dir.yaml')).message, /is a folder, not a regular file/)
      const fifo = path.join(root, 'secrets', 'fifo.yaml')
      execFileSync('mkfifo', [fifo]) // coreutils: a missing mkfifo fails the test, never skips it
      assert.match(refusal(() => readVaultFile(fifo, 'secrets/fifo.yaml')).message, /is a fifo, not a regular file/)
    })

    it('refuses a record over 1 MiB before reading it; logs may pass a larger limit', () => {
      const file = path.join(root, 'secrets', 'big.yaml')
      fs.writeFileSync(file, Buffer.alloc(MAX_RECORD_BYTES + 1, 'a'))
      assert.match(refusal(() => readVaultFile(file, 'secrets/big.yaml')).message, /^secrets\/big\.yaml: is 1048577 bytes; a record is never larger than 1048576 bytes$/)
      assert.equal(readVaultFile(file, 'audit/x', Infinity)?.length, MAX_RECORD_BYTES + 1)
      fs.truncateSync(file, MAX_RECORD_BYTES)
      assert.equal(readVaultFile(file, 'secrets/big.yaml')?.length, MAX_RECORD_BYTES)
    })
  })

  describe('ensureVaultDir', () => {
    it('creates missing folders up from the root (which may itself be missing)', () => {
      const fresh = path.join(base, 'fresh-vault')
      ensureVaultDir(fresh, path.join(fresh, 'run', 'cache'))
      assert.ok(fs.lstatSync(path.join(fresh, 'run', 'cache')).isDirectory())
      assert.equal(fs.statSync(path.join(fresh, 'run')).mode & 0o777, 0o700)
    })

    it('refuses a folder on the way that is a link, at any depth, and creates nothing through it', () => {
      const elsewhere = path.join(base, 'elsewhere')
      fs.mkdirSync(elsewhere)
      fs.symlinkSync(elsewhere, path.join(root, 'run'))
      assert.equal(refusal(() => ensureVaultDir(root, path.join(root, 'run', 'cache'))).message, 'run: is a symbolic link, not a folder')
      assert.deepEqual(fs.readdirSync(elsewhere), [])
      assert.throws(() => writeFileAtomic(path.join(root, 'run', 'cache', 'x.json'), '{}', {root}), /run: is a symbolic link/)
      assert.deepEqual(fs.readdirSync(elsewhere), [])
    })

    it('accepts a vault root that is itself a link (the operator chose it)', () => {
      const linkedRoot = path.join(base, 'linked-root')
      fs.symlinkSync(root, linkedRoot)
      writeFileAtomic(path.join(linkedRoot, 'secrets', 'a.yaml'), 'id: a\n', {root: linkedRoot})
      assert.equal(fs.readFileSync(path.join(root, 'secrets', 'a.yaml'), 'utf8'), 'id: a\n')
    })
  })

  it('writeFileAtomic replaces a link at the file name instead of writing through it', () => {
    const file = path.join(root, 'secrets', 'a.yaml')
    fs.symlinkSync(outside, file)
    writeFileAtomic(file, 'id: a\n', {root})
    assert.equal(fs.readFileSync(outside, 'utf8'), 'outside bytes\n')
    assert.ok(fs.lstatSync(file).isFile())
  })

  it('chmodNoFollow changes a file or folder, and never the target of a link', () => {
    const dir = path.join(base, 'target-dir')
    fs.mkdirSync(dir, {mode: 0o755})
    fs.chmodSync(dir, 0o755)
    fs.chmodSync(outside, 0o644)
    fs.symlinkSync(dir, path.join(root, 'dir-link'))
    fs.symlinkSync(outside, path.join(root, 'file-link'))
    assert.equal(chmodNoFollow(path.join(root, 'dir-link'), 0o600), false)
    assert.equal(chmodNoFollow(path.join(root, 'file-link'), 0o600), false)
    assert.equal(fs.statSync(dir).mode & 0o777, 0o755)
    assert.equal(fs.statSync(outside).mode & 0o777, 0o644)
    const own = path.join(root, 'secrets', 'own.yaml')
    fs.writeFileSync(own, 'x', {mode: 0o644})
    fs.chmodSync(own, 0o644)
    assert.equal(chmodNoFollow(own, 0o600), true)
    assert.equal(fs.statSync(own).mode & 0o777, 0o600)
  })

  describe('short writes (item 15)', () => {
    // The module object itself (an `import * as` namespace is a read-only view of it).
    const nodeFs = require('node:fs') as {writeSync: typeof fs.writeSync}
    const realWriteSync = nodeFs.writeSync
    let calls = 0

    beforeEach(() => {
      calls = 0
      // A kernel may write fewer bytes than asked (signals, quotas, pipes): at most 7 per call here.
      const shortWrite = (fd: number, data: Uint8Array, offset?: number, length?: number, position?: number | null): number => {
        calls++
        const from = offset ?? 0
        return realWriteSync(fd, data, from, Math.min(length ?? data.length - from, 7), position ?? null)
      }
      nodeFs.writeSync = shortWrite as unknown as typeof fs.writeSync
    })

    afterEach(() => {
      nodeFs.writeSync = realWriteSync
    })

    it('writeFileAtomic writes every byte when write(2) writes only part', () => {
      const file = path.join(root, 'secrets', 'short.yaml')
      const text = `id: short\nvalue: ${'v'.repeat(100)}\n`
      writeFileAtomic(file, text, {root})
      assert.equal(fs.readFileSync(file, 'utf8'), text)
      assert.ok(calls > 10, `expected many partial writes, saw ${calls}`)
    })
  })
})

/**
 * Local plugin sources: the package name comes from the folder's or the tarball's own
 * package.json (the file right under the tarball's top folder, whatever that folder is called).
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {AivaultError} from '../../src/errors'
import {localPackageName, localSource} from '../../src/plugins/local-source'

describe('plugins/local-source', () => {
  let base: string
  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-local-source-'))
  })
  afterEach(() => fs.rmSync(base, {recursive: true, force: true}))

  /** A folder <base>/<top> holding these files, and `tar czf` of it (pax format: long paths get extended headers). */
  function packed(top: string, files: Record<string, string>): {dir: string; tarball: string} {
    const dir = path.join(base, top)
    for (const [name, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), {recursive: true})
      fs.writeFileSync(path.join(dir, name), text)
    }
    const tarball = path.join(base, `${top}.tgz`)
    const tar = spawnSync('tar', ['--format=pax', '-czf', tarball, '-C', base, top], {encoding: 'utf8'})
    assert.equal(tar.status, 0, tar.stderr)
    return {dir, tarball}
  }

  it('reads the name from a folder and from its tarball, whatever the top folder is called', () => {
    const long = `${'d'.repeat(120)}/${'f'.repeat(120)}.js`
    const {dir, tarball} = packed('my-plugin-1.0', {[long]: 'x', 'package.json': JSON.stringify({name: '@acme/aivault-plugin-x', version: '1.0.0'}), 'sub/package.json': '{"name": "not-this"}'})
    assert.equal(localPackageName(dir), '@acme/aivault-plugin-x')
    assert.equal(localPackageName(tarball), '@acme/aivault-plugin-x')
  })

  it('refuses a source without a package.json name', () => {
    const {dir, tarball} = packed('nameless', {'package.json': '{"version": "1.0.0"}'})
    for (const source of [dir, tarball, path.join(base, 'missing')]) {
      assert.throws(() => localPackageName(source), (error: unknown) => error instanceof AivaultError && error.code === 'invalid_request' && /holds no readable package\.json with a name/.test(error.message))
    }
  })

  it('takes folders, tarballs and file: specs as local, npm names and URLs not', () => {
    const {dir} = packed('p', {'package.json': '{"name": "p"}'})
    assert.equal(localSource(dir), dir)
    assert.equal(localSource(`file:${dir}`), dir)
    assert.equal(localSource(`file://${dir}`), dir)
    assert.equal(localSource(path.relative(process.cwd(), dir)), dir)
    assert.equal(localSource('aivault-plugin-postgres'), undefined)
    assert.equal(localSource('https://example.com/p.tgz'), undefined)
  })
})

/**
 * Listing a folder of records through the machine-local cache (src/vault/store/record-folder.ts,
 * decision 004). A cold listing (no cache: a fresh clone) reads every record once and takes
 * each stamp from the fstat of that read: one stat a record, not an lstat and then an fstat.
 */
import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {RecordFolder} from '../../src/vault/store/record-folder'
import {statStamp} from '../../src/vault/store/stat-cache'

describe('RecordFolder (src/vault/store/record-folder.ts)', () => {
  // The module object itself (an `import * as` namespace is a read-only view of it).
  const nodeFs = require('node:fs') as {lstatSync: typeof fs.lstatSync}
  const realLstat = nodeFs.lstatSync
  let base: string
  let dir: string
  let cacheFile: string
  let projected: string[]
  let lstats: string[]

  const folder = () =>
    new RecordFolder<{id: string}>(
      dir,
      (name) => `secrets/${name}`,
      (raw, file, name) => {
        projected.push(name)
        const id = (raw as {id?: unknown}).id
        if (typeof id !== 'string') throw new Error(`${file}: id must be a string`)
        return {id}
      },
      {cache: {file: cacheFile, root: base}},
    )

  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-record-folder-'))
    dir = path.join(base, 'secrets')
    cacheFile = path.join(base, 'run', 'cache', 'secrets.json')
    fs.mkdirSync(dir)
    fs.mkdirSync(path.dirname(cacheFile), {recursive: true})
    for (const id of ['a', 'b', 'c']) fs.writeFileSync(path.join(dir, `${id}.yaml`), `id: ${id}\n`)
    projected = []
    lstats = []
    nodeFs.lstatSync = ((file: string, options?: object) => {
      lstats.push(path.basename(file))
      return realLstat(file, options as fs.StatSyncOptions)
    }) as typeof fs.lstatSync
  })

  afterEach(() => {
    nodeFs.lstatSync = realLstat
    fs.rmSync(base, {recursive: true, force: true})
  })

  it('a cold listing reads each record without an lstat, and keeps the stamp a later lstat gives', () => {
    const cold = folder().list()
    assert.deepEqual(cold.records.map((r) => r.id).sort(), ['a', 'b', 'c'])
    assert.deepEqual(projected.sort(), ['a.yaml', 'b.yaml', 'c.yaml'])
    assert.deepEqual(lstats.filter((f) => f.endsWith('.yaml')), [])
    const cached = JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as {entries: Record<string, {stamp: string}>}
    nodeFs.lstatSync = realLstat
    for (const name of ['a.yaml', 'b.yaml', 'c.yaml']) assert.equal(cached.entries[name].stamp, statStamp(path.join(dir, name)))

    // The next process (a new RecordFolder) parses nothing: every stamp matched.
    projected = []
    assert.deepEqual(folder().list().records.map((r) => r.id).sort(), ['a', 'b', 'c'])
    assert.deepEqual(projected, [])
  })

  it('a changed record is read again, under its new stamp', () => {
    folder().list()
    const file = path.join(dir, 'b.yaml')
    fs.writeFileSync(`${file}.new`, 'id: b2\n')
    fs.renameSync(`${file}.new`, file) // how aivault writes: a new inode
    projected = []
    assert.deepEqual(folder().list().records.map((r) => r.id).sort(), ['a', 'b2', 'c'])
    assert.deepEqual(projected, ['b.yaml'])
    const cached = JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as {entries: Record<string, {stamp: string}>}
    nodeFs.lstatSync = realLstat
    assert.equal(cached.entries['b.yaml'].stamp, statStamp(file))
  })

  it('a link where a record belongs is a problem of its own on a cold listing too, and stays one', () => {
    fs.writeFileSync(path.join(base, 'outside.yaml'), 'id: outside\n')
    fs.symlinkSync(path.join(base, 'outside.yaml'), path.join(dir, 'link.yaml'))
    for (let i = 0; i < 2; i++) {
      const listing = folder().list()
      assert.deepEqual(listing.records.map((r) => r.id).sort(), ['a', 'b', 'c'])
      assert.deepEqual(listing.problems, [{file: 'secrets/link.yaml', message: 'is a symbolic link'}])
    }
  })

  it('a record that fails its projection is reported with its message, without the file prefix', () => {
    fs.writeFileSync(path.join(dir, 'bad.yaml'), 'id: 7\n')
    assert.deepEqual(folder().list().problems, [{file: 'secrets/bad.yaml', message: 'id must be a string'}])
  })
})

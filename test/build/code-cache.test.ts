import {strict as assert} from 'node:assert'
import * as fs from 'node:fs'
import Module from 'node:module'
import * as os from 'node:os'
import * as path from 'node:path'

import {hasModuleInternals, requireWithCodeCache} from '../../src/code-cache'

describe('build: the code-cache loader', () => {
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-code-cache-'))
  })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  const writeModule = (name: string) => {
    const file = path.join(dir, name)
    fs.writeFileSync(file, "exports.loadedBy = module.filename; exports.dirname = __dirname; exports.path = require('node:path').sep\n")
    return file
  }

  it('finds every Module internal it uses on this Node', () => {
    assert.equal(hasModuleInternals(Module), true)
  })

  it('rejects a Module missing any of them', () => {
    const internals = Module as unknown as Record<string, unknown>
    const complete = {wrap: internals.wrap, _nodeModulePaths: internals._nodeModulePaths, _cache: internals._cache}
    assert.equal(hasModuleInternals(Object.assign(function FakeModule() {}, complete)), true)
    for (const missing of ['wrap', '_nodeModulePaths', '_cache']) {
      const partial = Object.assign(function FakeModule() {}, {...complete, [missing]: undefined})
      assert.equal(hasModuleInternals(partial), false, `without ${missing}`)
    }
    assert.equal(hasModuleInternals(undefined), false)
  })

  it('loads a module through the internals into require\'s cache', () => {
    const file = writeModule('through-cache.js')
    const loaded = requireWithCodeCache(file, path.join(dir, 'through-cache.js.cache')) as Record<string, string>
    assert.deepEqual(loaded, {loadedBy: file, dirname: dir, path: path.sep})
    assert.equal(require(file), loaded)
  })

  it('falls back to a plain require() when the internals are missing', () => {
    const file = writeModule('fallback.js')
    const loaded = requireWithCodeCache(file, path.join(dir, 'fallback.js.cache'), undefined) as Record<string, string>
    assert.deepEqual(loaded, {loadedBy: file, dirname: dir, path: path.sep})
  })
})

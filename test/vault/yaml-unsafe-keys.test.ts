/**
 * Record YAML never reaches into an object's prototype (issue 12 item 18): the canonical fast
 * path refuses `__proto__`, `constructor` and `prototype` keys, and the codec reports them, on
 * either path, as malformed YAML (which the stores turn into `vault_tampered` naming the file).
 */
import assert from 'node:assert/strict'

import {parseCanonical} from '../../src/vault/store/canonical-yaml'
import {fromYaml} from '../../src/vault/store/yaml-codec'

const UNSAFE = ['__proto__', 'constructor', 'prototype']

describe('record YAML: keys that reach into prototypes', () => {
  for (const key of UNSAFE) {
    it(`the canonical parser refuses a ${key} key at any depth (never sets it on a plain object)`, () => {
      for (const text of [`${key}:\n  testing: true\n`, `${key}: x\n`, `outer:\n  ${key}:\n    testing: true\n`, `list:\n  - ${key}: x\n`, `"${key}": x\n`]) {
        const parsed = parseCanonical(text)
        assert.equal(parsed, undefined, `${JSON.stringify(text)} was parsed to ${JSON.stringify(parsed)}`)
      }
    })

    it(`the codec refuses a ${key} key in canonical and in free-form YAML`, () => {
      for (const text of [`${key}:\n  testing: true\n`, `a: 1\nnested:\n  ${key}: {testing: true}\n`, `{${key}: {testing: true}}\n`, `items: [{${key}: 1}]\n`]) {
        assert.throws(() => fromYaml(text), new RegExp(`the key "${key}" is not allowed`), JSON.stringify(text))
      }
    })
  }

  it('a record that only looks like one of them is fine', () => {
    assert.deepEqual(fromYaml('proto: 1\nconstructors: 2\n__proto: 3\n'), {proto: 1, constructors: 2, __proto: 3})
    assert.equal(({} as {testing?: boolean}).testing, undefined, 'Object.prototype was never touched')
  })
})

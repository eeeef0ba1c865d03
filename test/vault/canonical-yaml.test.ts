import {strict as assert} from 'node:assert'

import * as YAML from 'yaml'

import {emitCanonical, parseCanonical} from '../../src/vault/store/canonical-yaml'
import {fromYaml, toYaml} from '../../src/vault/store/yaml-codec'

const TRICKY = [
  '', ' ', ' lead', 'trail ', 'true', 'True', 'FALSE', 'null', 'Null', '~', 'yes', 'no', 'on', 'off', 'y', 'n',
  '123', '-1', '0x1F', '0o17', '1e10', '123e4567', '1_000', '.inf', '-.inf', '.nan', '1.5', '00', '+1',
  'a: b', 'a:b', '#x', 'a #b', '- x', '-', '?', ':', '&a', '*a', '!tag', '|', '>', '%x', '@x', '`x', "'x'", '"x"',
  'line1\nline2', 'tab\there', 'é', 'emoji 🎉', '\u2028', 'back\\slash', '{a}', '[a]', 'a, b', 'key: value # c',
  '2026-11-29', '2026-11-29T02:34:31.348Z', '2026-11-29 02:34:31', 'e024bbec-0195-4aa9-8a49-7e0ae7b31da2',
  'B5Yu7LT3N4Rkwm8LoOvHCvZGSVS6CUKz+HWTHMpsW9UWRuOkeJvKwAQfudwZfcvh', 'abc=', '9fdf7931', 'OPENAI_API_KEY',
  'vault:secret:e024bbec-0195-4aa9-8a49-7e0ae7b31da2', 'Bearer {{secret}}', '/bot{{secret}}', 'api.openai.com', '*.myshopify.com',
]

function random(seed: number): () => number {
  let s = seed
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648
    return s / 2147483648
  }
}

function randomValue(rand: () => number, depth: number): unknown {
  const r = rand()
  if (depth > 2 || r < 0.45) {
    const k = rand()
    if (k < 0.6) return TRICKY[Math.floor(rand() * TRICKY.length)]
    if (k < 0.75) return Math.floor((rand() - 0.5) * 1e9)
    if (k < 0.85) return rand() < 0.5
    return null
  }
  if (r < 0.7) return randomMap(rand, depth + 1)
  const list: unknown[] = []
  const n = Math.floor(rand() * 4)
  for (let i = 0; i < n; i++) {
    const item = randomValue(rand, depth + 1)
    list.push(Array.isArray(item) || (item && typeof item === 'object' && Object.keys(item).length === 0) ? 'x' : item)
  }
  return list
}

function randomMap(rand: () => number, depth: number): Record<string, unknown> {
  const map: Record<string, unknown> = {}
  const n = Math.floor(rand() * 5)
  for (let i = 0; i < n; i++) map[rand() < 0.7 ? `key${i}` : TRICKY[Math.floor(rand() * TRICKY.length)] + i] = randomValue(rand, depth)
  return map
}

describe('canonical YAML', () => {
  it('every tricky string survives the yaml package and the fast path unchanged', () => {
    for (const s of TRICKY) {
      const doc = {value: s, list: [s], nested: {[s || 'empty']: s}}
      const text = emitCanonical(doc)
      assert.deepEqual(YAML.parse(text), doc, `yaml package disagrees for ${JSON.stringify(s)}:\n${text}`)
      assert.deepEqual(parseCanonical(text), doc, `fast path disagrees for ${JSON.stringify(s)}`)
    }
  })

  it('2,000 random documents: yaml.parse(emit(v)) = parseCanonical(emit(v)) = v', () => {
    const rand = random(Number(process.env.CANON_SEED ?? 42))
    for (let i = 0; i < Number(process.env.CANON_ROUNDS ?? 2000); i++) {
      const doc = randomMap(rand, 0)
      const text = emitCanonical(doc)
      assert.deepEqual(YAML.parse(text), doc, text)
      assert.deepEqual(parseCanonical(text), doc, text)
      assert.equal(emitCanonical(parseCanonical(text) as Record<string, unknown>), text)
    }
  })

  it('non-canonical YAML (other formatting, comments, duplicate keys) goes to the full parser', () => {
    const doc = {id: 'x', aliases: ['A', 'B'], scope: {type: 'global'}}
    const other = YAML.stringify(doc, {indentSeq: true})
    assert.deepEqual(fromYaml(other), doc)
    assert.deepEqual(fromYaml('# comment\n' + emitCanonical(doc)), doc)
    assert.throws(() => fromYaml('a: 1\na: 2\n'), /unique|duplicate/i)
    assert.throws(() => fromYaml('a: [unclosed\n'))
  })

  it('writes are deterministic and the same value always gives the same bytes', () => {
    const record = {id: 'e024bbec-0195-4aa9-8a49-7e0ae7b31da2', name: 'OPENAI_API_KEY', aliases: [], scope: {type: 'workspace', workspaceId: 'w'}, count: 3}
    assert.equal(toYaml(record), toYaml(JSON.parse(JSON.stringify(record))))
    assert.equal(toYaml(record), 'id: e024bbec-0195-4aa9-8a49-7e0ae7b31da2\nname: OPENAI_API_KEY\naliases: []\nscope:\n  type: workspace\n  workspaceId: w\ncount: 3\n')
  })
})

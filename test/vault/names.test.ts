/**
 * One rule per kind of name (src/vault/names.ts): a pattern, a length cap, and for ids that
 * are record file names, a file name the file system accepts.
 */
import assert from 'node:assert/strict'

import {fitsFileName, isValidName, nameProblem, selfAlias} from '../../src/vault/names'

describe('vault/names', () => {
  it('caps each kind at its length: secret names and consumers 256, credential and capability ids 200, workspace, group and provider ids 64', () => {
    const cases: Array<[Parameters<typeof isValidName>[0], string, number]> = [
      ['secret', 'S', 256],
      ['workspace', 'w', 64],
      ['group', 'g', 64],
      ['provider', 'p', 64],
      ['credential', 'c', 200],
      ['capability', 'x', 200],
      ['consumer', 'a', 256],
    ]
    for (const [kind, letter, max] of cases) {
      assert.equal(isValidName(kind, letter.repeat(max)), true, `${kind} of ${max}`)
      const problem = nameProblem(kind, letter.repeat(max + 1))
      assert.ok(problem, `${kind} of ${max + 1}`)
      assert.ok(problem.message.endsWith(` is longer than ${max} characters`), problem.message)
    }
  })

  it('keeps the patterns: what each kind allows and refuses', () => {
    const table: Array<[Parameters<typeof isValidName>[0], string, boolean]> = [
      ['secret', 'OPENAI_API_KEY', true],
      ['secret', '_x.y-z', true],
      ['secret', '1ABC', false],
      ['secret', 'A B', false],
      ['workspace', 'team-1.a_b', true],
      ['workspace', '-team', false],
      ['credential', 'openai:group:w:g', true],
      ['credential', 'a/b', false],
      ['capability', 'openai/chat-completions', true],
      ['capability', 'openai chat', false],
      ['provider', 'my-api', true],
      ['provider', 'My_Api', false],
      ['consumer', 'skill: summarize (v2)', true],
      ['consumer', 'line\nbreak', false],
      ['consumer', '', false],
    ]
    for (const [kind, value, ok] of table) assert.equal(isValidName(kind, value), ok, `${kind} ${JSON.stringify(value)}`)
  })

  it('a message quotes a short value and hints at the rule', () => {
    assert.deepEqual(nameProblem('secret', 'A B'), {message: '"A B" is not a valid secret name', hint: 'use letters, digits, ".", "_" or "-", starting with a letter or "_"'})
  })

  it('credential and capability ids must also fit a 255-byte file name (":" and "/" are encoded in three bytes)', () => {
    assert.equal(fitsFileName('a'.repeat(250)), true)
    assert.equal(fitsFileName('a'.repeat(251)), false)
    const colons = `c${':'.repeat(90)}`
    assert.equal(fitsFileName(colons), false)
    assert.match(nameProblem('credential', colons)?.message ?? '', /too long for a record file name/)
    assert.equal(nameProblem('credential', `c${':'.repeat(80)}`), undefined)
  })

  it('selfAlias finds an alias that repeats the name', () => {
    assert.equal(selfAlias('KEY', ['OTHER', 'KEY']), 'KEY')
    assert.equal(selfAlias('KEY', ['OTHER']), undefined)
  })
})

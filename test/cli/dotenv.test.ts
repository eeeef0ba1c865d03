/**
 * dotenv text as `secrets import` reads it (src/cli/dotenv.ts): comments, `export`, quoting
 * rules, and errors that name the line but never show its content (it may hold a secret).
 */
import assert from 'node:assert/strict'

import {parseDotenv} from '../../src/cli/dotenv'
import {AivaultError} from '../../src/errors'

const parse = (text: string) => parseDotenv(text, '.env')
const values = (text: string) => Object.fromEntries(parse(text).map((e) => [e.name, e.value]))

/** The error for `text`; asserts it is an invalid_request that does not show `secret`. */
function refusal(text: string, secret: string): AivaultError {
  let caught: unknown
  try {
    parse(text)
  } catch (error) {
    caught = error
  }
  assert.ok(caught instanceof AivaultError, `no error for ${JSON.stringify(text)}`)
  assert.equal(caught.code, 'invalid_request')
  assert.ok(!caught.message.includes(secret) && !(caught.hint ?? '').includes(secret), caught.message)
  return caught
}

describe('cli/dotenv: parseDotenv', () => {
  it('reads KEY=VALUE lines in order, skipping blank lines and comments, with CRLF or LF', () => {
    assert.deepEqual(parse('# keys\n\nA=1\r\n  B = two  \r\n# C=3\nD=\n'), [
      {name: 'A', value: '1'},
      {name: 'B', value: 'two'},
      {name: 'D', value: ''},
    ])
  })

  it('drops an `export ` prefix', () => {
    assert.deepEqual(values('export TOKEN=abc\nexport  OTHER=x'), {TOKEN: 'abc', OTHER: 'x'})
  })

  it('keeps everything after the first "=" in an unquoted value, and ends it at " #"', () => {
    assert.deepEqual(values('URL=https://x.example/?a=b&c=d\nK=v#not-a-comment\nL=value # a comment\nM=a\t# tab comment'), {
      URL: 'https://x.example/?a=b&c=d',
      K: 'v#not-a-comment',
      L: 'value',
      M: 'a',
    })
  })

  it('takes single-quoted values literally', () => {
    assert.deepEqual(values(String.raw`A='a\nb # "c"'` + "\nB='' # empty"), {A: String.raw`a\nb # "c"`, B: ''})
  })

  it('reads \\n, \\r, \\t, \\" and \\\\ in double-quoted values, and leaves other backslashes', () => {
    assert.deepEqual(values(String.raw`A="line1\nline2\tx\r\"q\" \\ \d"` + '\nB="# not a comment" # a comment'), {A: 'line1\nline2\tx\r"q" \\ \\d', B: '# not a comment'})
  })

  it('refuses a line that is not KEY=VALUE, naming the line number', () => {
    const error = refusal('A=1\nsk-live-SECRET-abc\n', 'sk-live-SECRET')
    assert.match(error.message, /^\.env line 2 is not KEY=VALUE$/)
    refusal('=sk-live-SECRET', 'sk-live-SECRET')
  })

  it('reads a quoted value over several lines, keeping its line breaks and indentation', () => {
    const pem = '-----BEGIN KEY-----\nMIIB\n  indented\n-----END KEY-----'
    assert.deepEqual(parse(`A=1\nKEY="${pem}" # note\r\nLIT='x\n y'\nB=2\n`), [
      {name: 'A', value: '1'},
      {name: 'KEY', value: pem},
      {name: 'LIT', value: 'x\n y'},
      {name: 'B', value: '2'},
    ])
  })

  it('names the opening line of a multi-line quote that never closes', () => {
    assert.match(refusal('A=1\nB="sk-live-SECRET\nmore\nC=3', 'sk-live-SECRET').message, /^\.env line 2 has an unterminated double quote$/)
    assert.match(refusal("A='one\ntwo'x", 'one').message, /^\.env line 1 has text after the closing quote$/)
  })

  it('refuses an unterminated quote and text after the closing quote, never echoing the value', () => {
    assert.match(refusal('A="sk-live-SECRET', 'sk-live-SECRET').message, /^\.env line 1 has an unterminated double quote$/)
    assert.match(refusal("\nA='sk-live-SECRET", 'sk-live-SECRET').message, /^\.env line 2 has an unterminated single quote$/)
    assert.match(refusal(String.raw`A="sk-live-SECRET\"`, 'sk-live-SECRET').message, /unterminated double quote/)
    assert.match(refusal('A="ok"sk-live-SECRET', 'sk-live-SECRET').message, /^\.env line 1 has text after the closing quote$/)
  })
})

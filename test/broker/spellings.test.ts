/**
 * The encodings a server commonly applies to an echoed secret (SPEC §7 step 12, issue 12
 * item 4): each one is scrubbed, in text and in bytes, and the forms too short to scrub safely
 * are left alone.
 */
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'

import {REDACTED, scrubBytes, scrubText, secretSpellings} from '../../src/broker/response/scrub'

const SECRET = 'sk-live/Abc+123=xyz~é<tag>&more!'
const SPELLINGS = secretSpellings([SECRET])

/** The echo is gone from text and from bytes, and a redaction took its place. */
function assertScrubbed(echo: string, label: string, spellings = SPELLINGS): void {
  const text = `before ${echo} after`
  const out = scrubText(text, spellings)
  assert.ok(!out.includes(echo), `${label}: ${JSON.stringify(echo)} survived in ${out}`)
  assert.ok(out.includes(REDACTED), `${label}: ${out}`)
  const bytes = scrubBytes(Buffer.from(text), spellings).toString()
  assert.equal(bytes, out, `${label}: bytes and text differ`)
}

const lowerEscapes = (s: string) => s.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase())
const unicodeEscape = (c: string, upper = false) => {
  const hex = c.charCodeAt(0).toString(16).padStart(4, '0')
  return `\\u${upper ? hex.toUpperCase() : hex}`
}

describe('broker/spellings: the encodings a server applies to an echo', () => {
  it('percent-encoding with upper- or lower-case hex, as URLs and forms do', () => {
    const component = encodeURIComponent(SECRET)
    const form = new URLSearchParams({s: SECRET}).toString().slice(2)
    for (const [label, echo] of Object.entries({component, form, lowerComponent: lowerEscapes(component), lowerForm: lowerEscapes(form)})) {
      assertScrubbed(echo, label)
    }
  })

  it('JSON escapes: standard, `\\/`, and `\\uXXXX` as PHP, Python, Go, Gson and .NET write them', () => {
    const std = JSON.stringify(SECRET).slice(1, -1)
    const echoes = {
      std,
      php: std.replace(/\//g, '\\/').replace(/[\u0080-\uffff]/g, (c) => unicodeEscape(c)),
      python: std.replace(/[\u0080-\uffff]/g, (c) => unicodeEscape(c)),
      go: std.replace(/[<>&]/g, (c) => unicodeEscape(c)),
      gson: std.replace(/[<>&'=]/g, (c) => unicodeEscape(c)),
      dotnet: std.replace(/\\"/g, '"').replace(/[<>&'+`"]|[\u007f-\uffff]/g, (c) => unicodeEscape(c, true)),
    }
    for (const [label, echo] of Object.entries(echoes)) assertScrubbed(echo, label)
  })

  it('hex, lower- and upper-case', () => {
    const hex = Buffer.from(SECRET).toString('hex')
    assertScrubbed(hex, 'hex')
    assertScrubbed(hex.toUpperCase(), 'HEX')
  })

  it('base64 and base64url of the value, standalone', () => {
    const base64 = Buffer.from(SECRET).toString('base64')
    assertScrubbed(base64, 'base64')
    assertScrubbed(Buffer.from(SECRET).toString('base64url'), 'base64url')
  })

  it('base64 of the value inside a longer base64 string: every character made of its bits alone is replaced, at every alignment', () => {
    for (const value of [SECRET, 'user:s3cr3t-pass', 'sk-abcdefghijklmnop-0123456789']) {
      const spellings = secretSpellings([value])
      const n = Buffer.byteLength(value)
      for (let before = 0; before < 6; before++) {
        for (let after = 0; after < 4; after++) {
          const whole = Buffer.concat([randomBytes(before), Buffer.from(value), randomBytes(after)])
          // The characters whose 6 bits all come from the value.
          const start = Math.ceil((8 * before) / 6)
          const end = Math.floor((8 * (before + n)) / 6)
          for (const encoding of ['base64', 'base64url'] as const) {
            const encoded = whole.toString(encoding)
            const out = scrubText(`{"blob":"${encoded}"}`, spellings)
            assert.equal(JSON.parse(out).blob, encoded.slice(0, start) + REDACTED + encoded.slice(end), `${encoding}, ${before} bytes before, ${after} after`)
          }
        }
      }
    }
  })

  it('every spelling of the value and of a JSON-escaped, percent-encoded value is scrubbed in one pass', () => {
    const body = [SECRET, encodeURIComponent(SECRET), Buffer.from(SECRET).toString('hex').toUpperCase(), Buffer.from(SECRET).toString('base64')].join(' | ')
    const out = scrubText(body, SPELLINGS)
    assert.equal(out.split(REDACTED).length - 1, 4, out)
  })

  it('leaves values shorter than 4 characters and encoded forms shorter than 8 alone', () => {
    assert.deepEqual(secretSpellings(['abc']), [])
    for (const spelling of secretSpellings(['abcd'])) assert.ok(spelling === 'abcd' || spelling.length >= 8, spelling)
  })

  it('handles lone surrogates (no throw, U+FFFD in URL forms)', () => {
    const spellings = secretSpellings(['bad\ud800value'])
    assert.ok(spellings.includes('bad\ud800value'))
    assert.ok(spellings.includes('bad%EF%BF%BDvalue'))
    assert.ok(spellings.includes('bad\\ud800value'))
  })

  it('lists each spelling once, longest first', () => {
    assert.equal(new Set(SPELLINGS).size, SPELLINGS.length)
    for (let i = 1; i < SPELLINGS.length; i++) assert.ok(SPELLINGS[i - 1].length >= SPELLINGS[i].length)
  })
})

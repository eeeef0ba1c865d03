/**
 * Bounded numbers on the command line (src/cli/duration.ts, src/cli/flags.ts `within`):
 * durations up to a maximum, integers within a range; anything else is a usage error (exit 2).
 */
import assert from 'node:assert/strict'

import {formatDuration, parseDuration} from '../../src/cli/duration'
import {within} from '../../src/cli/flags'
import {MAX_TOKEN_TTL_MS} from '../../src/cli/limits'
import {AivaultError} from '../../src/errors'

const usage = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (error: unknown) => error instanceof AivaultError && error.exitCode === 2 && pattern.test(error.message))

describe('cli/duration', () => {
  it('parses s, m, h and d up to the maximum', () => {
    assert.equal(parseDuration('30s', MAX_TOKEN_TTL_MS), 30_000)
    assert.equal(parseDuration('15m', MAX_TOKEN_TTL_MS), 900_000)
    assert.equal(parseDuration('30d', MAX_TOKEN_TTL_MS), 30 * 86_400_000)
    assert.equal(parseDuration('720h', MAX_TOKEN_TTL_MS), 30 * 86_400_000)
  })

  it('refuses a malformed, zero or too long duration as a usage error', () => {
    usage(() => parseDuration('31d', MAX_TOKEN_TTL_MS), /^--ttl "31d" is longer than the maximum, 30d$/)
    usage(() => parseDuration('721h', MAX_TOKEN_TTL_MS), /longer than the maximum/)
    usage(() => parseDuration('99999999999999999999999d', MAX_TOKEN_TTL_MS), /longer than the maximum/)
    usage(() => parseDuration('0s', MAX_TOKEN_TTL_MS), /is not a duration/)
    usage(() => parseDuration('1.5h', MAX_TOKEN_TTL_MS), /is not a duration/)
    usage(() => parseDuration('8 hours', MAX_TOKEN_TTL_MS, '--for'), /^--for "8 hours" is not a duration$/)
  })

  it('formats a maximum in its largest whole unit', () => {
    assert.equal(formatDuration(30 * 86_400_000), '30d')
    assert.equal(formatDuration(90 * 60_000), '90m')
    assert.equal(formatDuration(1500), '1s')
  })
})

describe('cli/flags within(min, max)', () => {
  const {parse} = within(0, 1000)

  it('accepts integers in the range, bounds included', async () => {
    assert.equal(await parse('0'), 0)
    assert.equal(await parse('1000'), 1000)
    assert.equal(await parse('007'), 7)
  })

  it('refuses fractions, words, signs out of range and numbers too large to hold exactly, naming the range', async () => {
    for (const input of ['1001', '-1', '1.5', '1e3', 'ten', '', '99999999999999999999']) {
      await assert.rejects(parse(input), (error: Error & {oclif?: {exit?: number}}) => error.oclif?.exit === 2 && /^expected an integer from 0 to 1000, got /.test(error.message), input)
    }
  })
})

/**
 * Path and query rules of the broker (SPEC §7 steps 4-5, §15 "Pipeline errors"): every
 * traversal spelling is refused as policy_violation, malformed input is invalid_request,
 * prefixes respect segment boundaries and the query is decoded once and re-encoded.
 */
import assert from 'node:assert/strict'

import {encodeQuery, encodeRfc3986, normalizeTarget, parseQuery, pathMatchesPrefix} from '../../src/broker/request/path'
import {throwsCode} from './helpers'


/** The segments a caller's path leads to, for prefix checks. */
const segmentsOf = (path: string): string[] => normalizeTarget(path).segments

describe('broker/path: normalizeTarget', () => {
  it('accepts an ordinary path and keeps it unchanged', () => {
    const target = normalizeTarget('/v1/chat/completions')
    assert.equal(target.path, '/v1/chat/completions')
    assert.deepEqual(target.segments, ['v1', 'chat', 'completions'])
    assert.deepEqual(target.query, [])
  })

  it('gives the same (remembered) answer again, frozen so no caller can change it for the next', () => {
    const first = normalizeTarget('/v1/files/abc?limit=2')
    const again = normalizeTarget('/v1/files/abc?limit=2')
    assert.deepEqual(again, first)
    assert.throws(() => (first.segments as string[]).push('x'), TypeError)
    assert.throws(() => (first.query[0] as [string, string]).splice(1, 1, 'changed'), TypeError)
    assert.deepEqual(normalizeTarget('/v1/files/abc?limit=2').query, [['limit', '2']])
  })

  it('accepts the root path', () => {
    const target = normalizeTarget('/')
    assert.equal(target.path, '/')
    assert.deepEqual(target.segments, [])
  })

  it('splits off the query', () => {
    const target = normalizeTarget('/v1/models?limit=10&after=abc')
    assert.equal(target.path, '/v1/models')
    assert.deepEqual(target.query, [['limit', '10'], ['after', 'abc']])
  })

  it('refuses a path without a leading "/" as invalid_request', () => {
    for (const path of ['v1/chat', '', 'https://evil.example/v1', '?a=1', ' /v1', '.', '..', '%2fv1']) {
      throwsCode(() => normalizeTarget(path), 'invalid_request', JSON.stringify(path))
    }
  })

  it('refuses a path starting with "//" as policy_violation', () => {
    for (const path of ['//evil.example/v1', '//', '///x', '//evil.example']) {
      throwsCode(() => normalizeTarget(path), 'policy_violation', JSON.stringify(path))
    }
  })

  it('refuses "." and ".." segments in every spelling as policy_violation', () => {
    const spellings = [
      '/..',
      '/.',
      '/v1/..',
      '/v1/.',
      '/v1/../admin',
      '/v1/./chat',
      '/v1/chat/..',
      '/v1/chat/../../etc/passwd',
      '/../v1',
      '/./v1',
      '/v1/%2e%2e/admin',
      '/v1/%2E%2E/admin',
      '/v1/%2e%2E/admin',
      '/v1/%2e./admin',
      '/v1/.%2e/admin',
      '/v1/%2E./admin',
      '/v1/.%2E/admin',
      '/v1/%2e/admin',
      '/v1/%2E/admin',
      '/v1/%2e',
      '/v1/%2e%2e',
      '/v1/..?x=1',
      '/v1/.?x=1',
      '/v1/../?x=1',
    ]
    for (const path of spellings) throwsCode(() => normalizeTarget(path), 'policy_violation', path)
  })

  it('refuses double-encoded dots, slashes and backslashes as policy_violation', () => {
    const spellings = [
      '/v1/%252e%252e/admin',
      '/v1/%252E%252E/admin',
      '/v1/%252e/admin',
      '/v1/%252e',
      '/v1/.%252e/admin',
      '/v1/%252f',
      '/v1/a%252fb',
      '/v1/a%255cb',
      '/v1/%252F..',
    ]
    for (const path of spellings) throwsCode(() => normalizeTarget(path), 'policy_violation', path)
  })

  it('refuses a double-encoded dot spelled with encoded digits as well (%25%32%65)', () => {
    // One decoding turns this into "%2e", which is exactly the double-encoded dot of the SPEC.
    for (const path of ['/v1/%25%32%65%25%32%65/admin', '/v1/%25%32%45/admin', '/v1/%25%32e%25%32e/admin']) {
      throwsCode(() => normalizeTarget(path), 'policy_violation', path)
    }
  })

  it('refuses backslashes, raw or encoded, as policy_violation', () => {
    for (const path of ['/v1\\..\\admin', '/v1/a\\b', '/\\', '/v1/%5c', '/v1/%5C', '/v1/%5c..%5cadmin', '/v1/..%5c', '/v1/a%5Cb']) {
      throwsCode(() => normalizeTarget(path), 'policy_violation', path)
    }
  })

  it('refuses encoded slashes as policy_violation', () => {
    for (const path of ['/v1/%2f', '/v1/%2F', '/v1/a%2fb', '/v1%2f..%2fadmin', '/v1/..%2f', '/%2fevil.example', '/%2F%2Fevil.example/x']) {
      throwsCode(() => normalizeTarget(path), 'policy_violation', path)
    }
  })

  it('refuses every raw control character in the path or query as policy_violation', () => {
    const controls = [...Array.from({length: 0x20}, (_, i) => i), 0x7f]
    for (const code of controls) {
      const c = String.fromCharCode(code)
      throwsCode(() => normalizeTarget(`/v1/a${c}b`), 'policy_violation', `path 0x${code.toString(16)}`)
      throwsCode(() => normalizeTarget(`/v1/x?q=a${c}b`), 'policy_violation', `query 0x${code.toString(16)}`)
    }
  })

  it('refuses every percent-encoded control character (%00-%1f, %7f) as policy_violation', () => {
    const controls = [...Array.from({length: 0x20}, (_, i) => i), 0x7f]
    for (const code of controls) {
      for (const hex of [code.toString(16).padStart(2, '0'), code.toString(16).padStart(2, '0').toUpperCase()]) {
        throwsCode(() => normalizeTarget(`/v1/a%${hex}b`), 'policy_violation', `path %${hex}`)
        throwsCode(() => normalizeTarget(`/v1/x?q=a%${hex}b`), 'policy_violation', `query value %${hex}`)
        throwsCode(() => normalizeTarget(`/v1/x?a%${hex}=1`), 'policy_violation', `query key %${hex}`)
      }
    }
  })

  it('does not mistake printable encoded characters near the control range for control characters', () => {
    // %20 (space) and %7e (~) are printable; %2520 is a literal "%20".
    assert.equal(normalizeTarget('/v1/a%20b').segments[1], 'a b')
    assert.equal(normalizeTarget('/v1/a%7eb').segments[1], 'a~b')
    assert.deepEqual(normalizeTarget('/v1/x?q=%2520').query, [['q', '%20']])
  })

  it('refuses bad percent-encoding as invalid_request', () => {
    const paths = ['/v1/%', '/v1/%2', '/v1/%zz', '/v1/a%g1', '/v1/%e0%80', '/v1/%c3', '/v1/%ff', '/v1/x?q=%', '/v1/x?q=%zz', '/v1/x?%zz=1', '/v1/x?q=%c3']
    for (const path of paths) throwsCode(() => normalizeTarget(path), 'invalid_request', path)
  })

  it('allows ".." and "." inside a segment', () => {
    assert.deepEqual(normalizeTarget('/v1/a..b').segments, ['v1', 'a..b'])
    assert.deepEqual(normalizeTarget('/v1/file.txt').segments, ['v1', 'file.txt'])
    assert.deepEqual(normalizeTarget('/v1/..a').segments, ['v1', '..a'])
    assert.deepEqual(normalizeTarget('/v1/a..').segments, ['v1', 'a..'])
    assert.deepEqual(normalizeTarget('/v1/...').segments, ['v1', '...'])
    assert.deepEqual(normalizeTarget('/v1/a%2e%2eb').segments, ['v1', 'a..b'])
    assert.equal(normalizeTarget('/v1/a..b').path, '/v1/a..b')
    assert.equal(normalizeTarget('/repos/o/r/compare/main...dev').path, '/repos/o/r/compare/main...dev')
  })

  it('accepts a query that contains "..", slashes or backslashes (only the path is a path)', () => {
    const target = normalizeTarget('/v1/search?q=../etc&p=a/b')
    assert.equal(target.path, '/v1/search')
    assert.deepEqual(target.query, [['q', '../etc'], ['p', 'a/b']])
  })

  it('re-encodes the path it sends upstream from the decoded segments', () => {
    assert.equal(normalizeTarget('/v1/a%20b').path, '/v1/a%20b')
    assert.equal(normalizeTarget('/v1/a b').path, '/v1/a%20b')
    assert.equal(normalizeTarget('/v1/caf%C3%A9').path, '/v1/caf%C3%A9')
    assert.equal(normalizeTarget('/v1/café').path, '/v1/caf%C3%A9')
    assert.deepEqual(normalizeTarget('/v1/caf%c3%a9').segments, ['v1', 'café'])
    // A literal percent sign travels encoded exactly once.
    assert.equal(normalizeTarget('/v1/100%25').path, '/v1/100%25')
    assert.deepEqual(normalizeTarget('/v1/100%25').segments, ['v1', '100%'])
    // Unreserved characters and pchar sub-delimiters are not needlessly encoded.
    assert.equal(normalizeTarget('/v1/a-b_c.d~e').path, '/v1/a-b_c.d~e')
    assert.equal(normalizeTarget('/v1/user:1@x').path, '/v1/user:1@x')
  })

  it('never produces a path that a second decoding would turn into traversal', () => {
    for (const raw of ['/v1/100%25', '/v1/a%2520b', '/v1/%25', '/v1/a..b', '/v1/%2e%2eb']) {
      const {path} = normalizeTarget(raw)
      const once = decodeURIComponent(path)
      for (const segment of once.split('/').slice(1)) {
        assert.notEqual(segment, '..', raw)
        assert.notEqual(segment, '.', raw)
      }
    }
  })

  it('keeps a trailing slash in the path but not as a segment', () => {
    const target = normalizeTarget('/v1/chat/')
    assert.equal(target.path, '/v1/chat/')
    assert.deepEqual(target.segments, ['v1', 'chat'])
  })
})

describe('broker/path: parseQuery and encodeQuery', () => {
  it('decodes once: percent-escapes and "+" as a space', () => {
    assert.deepEqual(parseQuery('q=a%20b+c&x=%2B'), [['q', 'a b c'], ['x', '+']])
    assert.deepEqual(parseQuery('q=%2520'), [['q', '%20']])
    assert.deepEqual(parseQuery('q=caf%C3%A9'), [['q', 'café']])
  })

  it('keeps order, repeated keys, keys without values and empty values', () => {
    assert.deepEqual(parseQuery('b=2&a=1&a=0&flag&empty='), [['b', '2'], ['a', '1'], ['a', '0'], ['flag', ''], ['empty', '']])
  })

  it('splits a pair on the first "=" only', () => {
    assert.deepEqual(parseQuery('filter=a=b'), [['filter', 'a=b']])
  })

  it('returns nothing for an empty query and skips empty pairs', () => {
    assert.deepEqual(parseQuery(''), [])
    assert.deepEqual(parseQuery('&&a=1&'), [['a', '1']])
  })

  it('refuses bad percent-encoding as invalid_request', () => {
    for (const q of ['a=%', 'a=%4', 'a=%zz', '%zz=1', 'a=%c3']) throwsCode(() => parseQuery(q), 'invalid_request', q)
  })

  it('encodes keys and values with RFC 3986', () => {
    assert.equal(encodeQuery([['q', 'a b'], ['x', "!'()*"], ['k y', 'é'], ['t', '~-._']]), 'q=a%20b&x=%21%27%28%29%2A&k%20y=%C3%A9&t=~-._')
    assert.equal(encodeQuery([['a', '1&b=2']]), 'a=1%26b%3D2')
    assert.equal(encodeQuery([]), '')
  })

  it('re-encodes what it decoded: a round trip through normalizeTarget', () => {
    assert.equal(encodeQuery(normalizeTarget('/x?q=hello+world&x=%2b&y=a%2Fb').query), 'q=hello%20world&x=%2B&y=a%2Fb')
    // Decoded exactly once: the literal "%41" stays a literal, never becomes "A".
    assert.equal(encodeQuery(normalizeTarget('/x?q=%2541').query), 'q=%2541')
    // Raw characters that need escaping are escaped on the way out.
    assert.equal(encodeQuery(normalizeTarget("/x?q=it's(1)").query), 'q=it%27s%281%29')
  })
})

describe('broker/path: encodeRfc3986', () => {
  it('leaves only unreserved characters unencoded', () => {
    assert.equal(encodeRfc3986('AZaz09-._~'), 'AZaz09-._~')
    assert.equal(encodeRfc3986(" !\"#$%&'()*+,/:;=?@[]"), '%20%21%22%23%24%25%26%27%28%29%2A%2B%2C%2F%3A%3B%3D%3F%40%5B%5D')
  })

  it('encodes UTF-8 bytes with upper-case hex', () => {
    assert.equal(encodeRfc3986('é'), '%C3%A9')
    assert.equal(encodeRfc3986('€'), '%E2%82%AC')
    assert.equal(encodeRfc3986('😀'), '%F0%9F%98%80')
  })
})

describe('broker/path: pathMatchesPrefix', () => {
  it('respects segment boundaries', () => {
    assert.equal(pathMatchesPrefix(segmentsOf('/v1/chat'), '/v1/chat'), true)
    assert.equal(pathMatchesPrefix(segmentsOf('/v1/chat/x'), '/v1/chat'), true)
    assert.equal(pathMatchesPrefix(segmentsOf('/v1/chat/completions/abc'), '/v1/chat'), true)
    assert.equal(pathMatchesPrefix(segmentsOf('/v1/chat/'), '/v1/chat'), true)
    assert.equal(pathMatchesPrefix(segmentsOf('/v1/chatty'), '/v1/chat'), false)
    assert.equal(pathMatchesPrefix(segmentsOf('/v1/chat-x'), '/v1/chat'), false)
    assert.equal(pathMatchesPrefix(segmentsOf('/v1/cha'), '/v1/chat'), false)
    assert.equal(pathMatchesPrefix(segmentsOf('/v1'), '/v1/chat'), false)
    assert.equal(pathMatchesPrefix(segmentsOf('/'), '/v1/chat'), false)
    assert.equal(pathMatchesPrefix(segmentsOf('/v2/chat'), '/v1/chat'), false)
  })

  it('treats a prefix with a trailing slash like the same prefix without it', () => {
    assert.equal(pathMatchesPrefix(segmentsOf('/v1/chat/x'), '/v1/chat/'), true)
    assert.equal(pathMatchesPrefix(segmentsOf('/v1/chatty'), '/v1/chat/'), false)
  })

  it('lets "/" allow every path', () => {
    assert.equal(pathMatchesPrefix(segmentsOf('/'), '/'), true)
    assert.equal(pathMatchesPrefix(segmentsOf('/anything/at/all'), '/'), true)
  })

  it('compares decoded segments, so an encoded spelling of an allowed path matches and nothing else does', () => {
    assert.equal(pathMatchesPrefix(segmentsOf('/v1/%63hat/x'), '/v1/chat'), true)
    assert.equal(pathMatchesPrefix(segmentsOf('/v1/a%20b/x'), '/v1/a b'), true)
    assert.equal(pathMatchesPrefix(segmentsOf('/v1/a%20b/x'), '/v1/a%20b'), true)
    assert.equal(pathMatchesPrefix(segmentsOf('/v1/a..b'), '/v1/a'), false)
  })

  it('is case-sensitive, as paths are', () => {
    assert.equal(pathMatchesPrefix(segmentsOf('/V1/chat'), '/v1/chat'), false)
  })
})

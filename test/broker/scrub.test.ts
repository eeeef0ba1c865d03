/**
 * Secret scrubbing of responses and the response blocklist (SPEC §6 `--response-block`, §7
 * step 12): an upstream that echoes the request must never hand injected secret material to
 * the caller, in any spelling, however the response is cut into chunks.
 */
import assert from 'node:assert/strict'
import {Readable} from 'node:stream'

import {applyResponseBlock} from '../../src/broker/response/response-policy'
import {REDACTED, responseFilter, scrubText, secretSpellings} from '../../src/broker/response/scrub'

/** Push `chunks` through a fresh scrubber and collect the output bytes. */
async function scrubChunks(spellings: string[], chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = []
  const stream = Readable.from(chunks, {objectMode: false}).pipe(responseFilter(spellings, null))
  for await (const chunk of stream) out.push(Buffer.from(chunk as Buffer))
  return Buffer.concat(out)
}

/** Every way to cut `bytes` into two pieces (including empty first/last pieces). */
function twoWaySplits(bytes: Buffer): Buffer[][] {
  const out: Buffer[][] = []
  for (let i = 0; i <= bytes.length; i++) out.push([bytes.subarray(0, i), bytes.subarray(i)])
  return out
}

function assertClean(output: string, secrets: string[], label: string): void {
  for (const secret of secrets) assert.ok(!output.includes(secret), `${label}: ${JSON.stringify(secret)} survived in ${JSON.stringify(output)}`)
}

describe('broker/scrub: secretSpellings', () => {
  it('lists the secret as is, URL-encoded and JSON-escaped, longest first, without duplicates', () => {
    const secret = 'sk-a/b+c"d\\e f'
    const spellings = secretSpellings([secret])
    assert.ok(spellings.includes(secret))
    assert.ok(spellings.includes(encodeURIComponent(secret)))
    assert.ok(spellings.includes('sk-a/b+c\\"d\\\\e f'))
    assert.equal(new Set(spellings).size, spellings.length)
    for (let i = 1; i < spellings.length; i++) assert.ok(spellings[i - 1].length >= spellings[i].length, 'sorted longest first')
  })

  it('collapses spellings that coincide', () => {
    // A plain value has no URL or JSON spelling of its own: as is, plus its hex and base64 forms.
    const plain = secretSpellings(['sk-plain-1234'])
    assert.ok(plain.includes('sk-plain-1234'))
    assert.ok(!plain.some((s) => s.includes('%') || s.includes('\\')))
    assert.deepEqual(secretSpellings(['sk-plain-1234', 'sk-plain-1234']), plain)
  })

  it('covers several secrets at once', () => {
    const spellings = secretSpellings(['first-secret', 'second secret'])
    assert.ok(spellings.includes('first-secret'))
    assert.ok(spellings.includes('second secret'))
    assert.ok(spellings.includes('second%20secret'))
  })
})

describe('broker/scrub: scrubText', () => {
  it('replaces every occurrence of every spelling', () => {
    const secret = 'sk-live/abc+def'
    const spellings = secretSpellings([secret])
    const text = `a ${secret} b ${encodeURIComponent(secret)} c ${secret}${secret} ${JSON.stringify({k: secret})}`
    const out = scrubText(text, spellings)
    assertClean(out, [secret, encodeURIComponent(secret)], 'scrubText')
    assert.ok(out.startsWith(`a ${REDACTED} b ${REDACTED} c ${REDACTED}${REDACTED}`), out)
  })

  it('leaves text without secrets untouched', () => {
    assert.equal(scrubText('nothing to see', secretSpellings(['sk-secret-1'])), 'nothing to see')
    assert.equal(scrubText('anything', []), 'anything')
  })

  it('redacts a JSON-escaped secret inside a JSON document', () => {
    const secret = 'p@ss"word\\42'
    const body = JSON.stringify({echo: {headers: {authorization: `Bearer ${secret}`}}})
    const out = scrubText(body, secretSpellings([secret]))
    assert.ok(!out.includes(JSON.stringify(secret).slice(1, -1)))
    assert.equal(JSON.parse(out).echo.headers.authorization, `Bearer ${REDACTED}`)
  })
})

describe('broker/scrub: responseFilter', () => {
  const SECRET = 'sk-proj-Abc123/XyZ+789=end'
  const SPELLINGS = secretSpellings([SECRET])
  const ALL = [SECRET, encodeURIComponent(SECRET), JSON.stringify(SECRET).slice(1, -1)]

  it('passes data through unchanged when there is nothing to scrub', async () => {
    const data = Buffer.from('hello, world: no secrets here')
    assert.deepEqual(await scrubChunks(SPELLINGS, [data]), data)
    assert.deepEqual(await scrubChunks([], [data.subarray(0, 5), data.subarray(5)]), data)
  })

  it('preserves arbitrary binary data around secrets', async () => {
    const data = Buffer.concat([Buffer.from([0, 255, 128, 10]), Buffer.from(SECRET), Buffer.from([200, 201, 0])])
    const out = await scrubChunks(SPELLINGS, twoWaySplits(data)[7])
    assert.deepEqual(out, Buffer.concat([Buffer.from([0, 255, 128, 10]), Buffer.from(REDACTED), Buffer.from([200, 201, 0])]))
  })

  it('never lets a secret through, wherever a two-chunk split falls', async () => {
    const body = Buffer.from(`{"echo":"Bearer ${SECRET}","url":"/x?key=${encodeURIComponent(SECRET)}"} tail`)
    const expected = scrubText(body.toString(), SPELLINGS)
    for (const chunks of twoWaySplits(body)) {
      const out = (await scrubChunks(SPELLINGS, chunks)).toString()
      assertClean(out, ALL, `split at ${chunks[0].length}`)
      assert.equal(out, expected, `split at ${chunks[0].length}`)
    }
  })

  it('never lets a secret through, wherever a three-chunk split falls', async () => {
    const body = Buffer.from(`>${SECRET}<`)
    const expected = `>${REDACTED}<`
    for (let i = 0; i <= body.length; i++) {
      for (let j = i; j <= body.length; j++) {
        const out = (await scrubChunks(SPELLINGS, [body.subarray(0, i), body.subarray(i, j), body.subarray(j)])).toString()
        assert.equal(out, expected, `split at ${i}/${j}`)
      }
    }
  })

  it('never lets a secret through when the response arrives one byte at a time', async () => {
    const body = Buffer.from(`a${SECRET}b${SECRET}${SECRET}c${encodeURIComponent(SECRET)}`)
    const chunks = [...body].map((byte) => Buffer.from([byte]))
    const out = (await scrubChunks(SPELLINGS, chunks)).toString()
    assertClean(out, ALL, 'byte by byte')
    assert.equal(out, `a${REDACTED}b${REDACTED}${REDACTED}c${REDACTED}`)
  })

  it('scrubs a non-ASCII secret split inside a UTF-8 character', async () => {
    const secret = 'pässwörd-ünïcode-42'
    const spellings = secretSpellings([secret])
    const body = Buffer.from(`echo: ${secret}; again ${encodeURIComponent(secret)}.`)
    for (const chunks of twoWaySplits(body)) {
      const out = (await scrubChunks(spellings, chunks)).toString('utf8')
      assert.equal(out, `echo: ${REDACTED}; again ${REDACTED}.`, `split at ${chunks[0].length}`)
    }
  })

  it('scrubs several secrets of different lengths at every split', async () => {
    const secrets = ['short-key-1', 'a-much-longer-secret-value-0123456789']
    const spellings = secretSpellings(secrets)
    const body = Buffer.from(`${secrets[0]}|${secrets[1]}|${secrets[0]}`)
    for (const chunks of twoWaySplits(body)) {
      const out = (await scrubChunks(spellings, chunks)).toString()
      assert.equal(out, `${REDACTED}|${REDACTED}|${REDACTED}`, `split at ${chunks[0].length}`)
    }
  })

  it('emits data before the end of the stream (streams stay streams)', async () => {
    const scrubber = responseFilter(SPELLINGS, null)
    const seen: Buffer[] = []
    scrubber.on('data', (chunk: Buffer) => seen.push(chunk))
    const big = Buffer.alloc(4096, 'x')
    scrubber.write(big)
    await new Promise((resolve) => setImmediate(resolve))
    const early = Buffer.concat(seen).length
    // Only a tail shorter than the longest spelling may be held back.
    const longest = Math.max(...SPELLINGS.map((s) => Buffer.byteLength(s)))
    assert.ok(early >= big.length - longest + 1, `only ${early} bytes came out before the end`)
    scrubber.end()
    await new Promise((resolve) => scrubber.on('end', resolve))
    assert.equal(Buffer.concat(seen).length, big.length)
  })

  it('ends with body_too_large once the response passes its limit, and not before', async () => {
    const within = Readable.from([Buffer.alloc(6, 'a'), Buffer.alloc(4, 'b')]).pipe(responseFilter(SPELLINGS, 10))
    const out: Buffer[] = []
    for await (const chunk of within) out.push(chunk as Buffer)
    assert.equal(Buffer.concat(out).toString(), 'aaaaaabbbb')
    const over = Readable.from([Buffer.alloc(6, 'a'), Buffer.alloc(5, 'b')]).pipe(responseFilter(SPELLINGS, 10))
    await assert.rejects(
      (async () => {
        for await (const chunk of over) out.push(chunk as Buffer)
      })(),
      (error: Error & {code?: string}) => error.code === 'body_too_large',
    )
  })
})

describe('broker/response-policy: applyResponseBlock', () => {
  const json = (value: unknown) => Buffer.from(JSON.stringify(value))

  it('redacts a JSON field of the blocked name at any depth', () => {
    const body = json({
      token: 'top',
      keep: 'visible',
      nested: {token: {deep: 1}, other: 2, list: [{token: 'in-array'}, {keep: true}]},
      arrays: [[{token: null}]],
    })
    const out = JSON.parse(applyResponseBlock(body, ['token'], 'application/json').toString())
    assert.deepEqual(out, {
      token: REDACTED,
      keep: 'visible',
      nested: {token: REDACTED, other: 2, list: [{token: REDACTED}, {keep: true}]},
      arrays: [[{token: REDACTED}]],
    })
  })

  it('redacts several blocked fields and leaves others untouched', () => {
    const out = JSON.parse(applyResponseBlock(json({a: 1, b: {c: 2, a: 3}, d: 4}), ['a', 'c'], 'application/json; charset=utf-8').toString())
    assert.deepEqual(out, {a: REDACTED, b: {c: REDACTED, a: REDACTED}, d: 4})
  })

  it('recognises JSON by its shape when the content type does not say so', () => {
    const out = JSON.parse(applyResponseBlock(json({secret: 'x', y: 1}), ['secret'], 'text/plain').toString())
    assert.deepEqual(out, {secret: REDACTED, y: 1})
    const top = JSON.parse(applyResponseBlock(json([{secret: 'x'}]), ['secret'], undefined).toString())
    assert.deepEqual(top, [{secret: REDACTED}])
  })

  it('does not redact a blocked name appearing as a value in JSON', () => {
    const out = JSON.parse(applyResponseBlock(json({kind: 'token', token: 'x'}), ['token'], 'application/json').toString())
    assert.deepEqual(out, {kind: 'token', token: REDACTED})
  })

  it('replaces plain-text occurrences of the literal in non-JSON bodies', () => {
    const out = applyResponseBlock(Buffer.from('access_token=abc; the access_token expires'), ['access_token'], 'text/plain').toString()
    assert.equal(out, `${REDACTED}=abc; the ${REDACTED} expires`)
  })

  it('falls back to plain-text rules when a JSON content type carries invalid JSON', () => {
    const out = applyResponseBlock(Buffer.from('{"password": broken'), ['password'], 'application/json').toString()
    assert.equal(out, `{"${REDACTED}": broken`)
  })

  it('leaves the body byte-identical when nothing is blocked', () => {
    const body = Buffer.from('{ "a" : 1 }')
    assert.equal(applyResponseBlock(body, [], 'application/json'), body)
  })

  it('keeps a JSON body that has no blocked field equivalent', () => {
    const value = {a: [1, 2, {b: 'c'}], d: null, e: 'é'}
    assert.deepEqual(JSON.parse(applyResponseBlock(json(value), ['zzz'], 'application/json').toString()), value)
  })
})

/**
 * A streamed response is scrubbed chunk by chunk (responseFilter): only a tail that could be
 * the start of a secret's spelling waits for the next chunk, so small events (SSE) still go
 * out as they arrive, however long the spellings are (hex doubles a key's length).
 */
import assert from 'node:assert/strict'

import {REDACTED, responseFilter, secretSpellings} from '../../src/broker/response/scrub'

const SECRET = 'sk-holdback-SECRET-0123456789abcdef'

/** Write `chunks` one by one; what came out after each write (before the end), and in all. */
async function outputs(chunks: string[]): Promise<{each: string[]; all: string}> {
  const filter = responseFilter(secretSpellings([SECRET]), null)
  const seen: Buffer[] = []
  filter.on('data', (chunk: Buffer) => seen.push(chunk))
  const each: string[] = []
  for (const chunk of chunks) {
    filter.write(Buffer.from(chunk))
    await new Promise((resolve) => setImmediate(resolve))
    each.push(Buffer.concat(seen.splice(0)).toString())
  }
  filter.end()
  await new Promise((resolve) => filter.on('end', resolve))
  return {each, all: each.join('') + Buffer.concat(seen).toString()}
}

describe('broker/scrub: responseFilter holds back only a possible start of a secret', () => {
  it('passes small SSE events on as they arrive', async () => {
    const events = ['data: {"n":0}\n\n', 'data: {"n":1}\n\n', 'data: {"n":2}\n\n']
    const {each} = await outputs(events)
    assert.deepEqual(each, events)
  })

  it('holds a tail that starts a spelling until the next chunk shows whether it completes', async () => {
    const hex = Buffer.from(SECRET).toString('hex')
    const {each, all} = await outputs([`data: "${SECRET.slice(0, 10)}`, `${SECRET.slice(10)}"\n\n`, `data: "${hex.slice(0, 9)}`, `${hex.slice(9)}"\n\n`])
    assert.deepEqual(each, ['data: "', `${REDACTED}"\n\n`, 'data: "', `${REDACTED}"\n\n`])
    assert.equal(all, `data: "${REDACTED}"\n\ndata: "${REDACTED}"\n\n`)
  })

  it('lets a held tail go once it can no longer be a secret', async () => {
    const {each} = await outputs([`x ${SECRET.slice(0, 6)}`, ' and more\n'])
    assert.deepEqual(each, ['x ', `${SECRET.slice(0, 6)} and more\n`])
  })
})

/**
 * `--response-block` on the formats a caller gets by asking for `stream: true` (SPEC §7 step
 * 12, issue 12 item 3): each NDJSON line and each SSE event's `data:` JSON is redacted like a
 * JSON body, never by replacing the field's name and leaving its value.
 */
import assert from 'node:assert/strict'

import {applyResponseBlock} from '../../src/broker/response/response-policy'
import {REDACTED} from '../../src/broker/response/scrub'

const block = (body: string, fields: string[], contentType?: string) => applyResponseBlock(Buffer.from(body), fields, contentType).toString('utf8')

describe('broker/response-policy: NDJSON and SSE bodies', () => {
  it('redacts the field in every NDJSON line, keeping the line breaks', () => {
    const lines = [{id: 1, ssn: '111-11-1111'}, {id: 2, nested: {ssn: '222-22-2222'}}, {id: 3}]
    for (const contentType of ['application/x-ndjson', 'application/json', 'application/jsonl', undefined]) {
      for (const eol of ['\n', '\r\n']) {
        const body = lines.map((l) => JSON.stringify(l)).join(eol) + eol
        const out = block(body, ['ssn'], contentType)
        assert.equal(out, [{id: 1, ssn: REDACTED}, {id: 2, nested: {ssn: REDACTED}}, {id: 3}].map((l) => JSON.stringify(l)).join(eol) + eol, `${contentType} ${JSON.stringify(eol)}`)
        assert.ok(!out.includes('-11-') && !out.includes('-22-'), out)
      }
    }
  })

  it('redacts the field in each SSE data: JSON, leaving events, ids, comments and [DONE] alone', () => {
    const body = [
      ': keep-alive',
      'event: delta',
      'id: 7',
      `data: ${JSON.stringify({choices: [{delta: {content: 'hi', api_key: 'sk-leak-1'}}]})}`,
      '',
      `data:${JSON.stringify({api_key: 'sk-leak-2'})}`,
      '',
      'data: [DONE]',
      '',
      '',
    ].join('\n')
    const out = block(body, ['api_key'], 'text/event-stream')
    assert.ok(!out.includes('sk-leak'), out)
    assert.equal(out, [
      ': keep-alive',
      'event: delta',
      'id: 7',
      `data: ${JSON.stringify({choices: [{delta: {content: 'hi', api_key: REDACTED}}]})}`,
      '',
      `data: ${JSON.stringify({api_key: REDACTED})}`,
      '',
      'data: [DONE]',
      '',
      '',
    ].join('\n'))
  })

  it('joins an event\'s data: lines into one JSON document, as SSE clients do', () => {
    const out = block('data: {"token":\ndata:  "abc",\ndata: "ok": 1}\n\n', ['token'], 'text/event-stream')
    assert.equal(out, `data: ${JSON.stringify({token: REDACTED, ok: 1})}\n\n`)
  })

  it('redacts each data: line of an event whose lines are separate JSON documents', () => {
    const out = block('data: {"token":"a"}\r\ndata: {"token":"b"}\r\n\r\n', ['token'], 'text/event-stream')
    assert.equal(out, `data: {"token":"${REDACTED}"}\r\ndata: {"token":"${REDACTED}"}\r\n\r\n`)
  })

  it('finds SSE and NDJSON by their shape when the content type says nothing', () => {
    assert.equal(block('data: {"token":"a"}\n\n', ['token'], undefined), `data: {"token":"${REDACTED}"}\n\n`)
    assert.equal(block('{"token":"a"}\n{"token":"b"}', ['token'], 'text/plain'), `{"token":"${REDACTED}"}\n{"token":"${REDACTED}"}`)
  })

  it('keeps the plain-text rule for lines that are not JSON', () => {
    assert.equal(block('{"token":"a"}\ntoken=abc\n', ['token'], 'application/x-ndjson'), `{"token":"${REDACTED}"}\n${REDACTED}=abc\n`)
    assert.equal(block('data: token is here\n\n', ['token'], 'text/event-stream'), `data: ${REDACTED} is here\n\n`)
  })
})

/**
 * Request bodies through `aivault serve`'s passthrough (issue 4: "streaming both ways"): a body
 * goes upstream as the caller sends it, with the caller's length or chunked; size limits hold
 * while it streams; a body the auth must sign (SigV4) is collected whole and signed as sent.
 */
import * as assert from 'node:assert/strict'
import * as crypto from 'node:crypto'
import * as http from 'node:http'
import OpenAI, {toFile} from 'openai'

import {TempVault} from './fixture'
import {assertProblem, mint, startServe, type Minted, type Reply, type Served} from './serve-helpers'
import {echo, resolveEnv, startUpstream, type Upstream} from './upstream'

const OPENAI_KEY = 'sk-serve-upload-OPENAI-SECRET-0123456789'
const AWS_KEY_ID = 'AKIAUPLOADTESTKEY0001'
const AWS_SECRET = 'aws-upload-SECRET-abcdefghijklmnopqrstuvwxyz0123'

/** A request whose body the test writes piece by piece; `reply` settles with the answer. */
function openUpload(served: Served, path: string, headers: Record<string, string>, method = 'POST') {
  const req = http.request({host: '127.0.0.1', port: served.port, path, method, headers, agent: false})
  const reply = new Promise<Reply>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8')}))
    })
    req.on('error', reject)
  })
  return {req, reply}
}

function within<T>(promise: Promise<T>, ms: number, failure: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([promise, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(failure)), ms)))]).finally(() => clearTimeout(timer))
}

describe('e2e serve: request bodies stream to the upstream (SPEC §10)', function () {
  this.timeout(120_000)
  let up: Upstream
  let tv: TempVault
  let served: Served
  let chat: Minted
  let s3: Minted

  before(async () => {
    up = await startUpstream()
    tv = new TempVault()
    tv.ok(['init', '--testing'])
    tv.createSecret('OPENAI_API_KEY', OPENAI_KEY)
    tv.createSecret('AWS_ACCESS_KEY_ID', AWS_KEY_ID)
    tv.createSecret('AWS_SECRET_ACCESS_KEY', AWS_SECRET)
    tv.ok(['capability', 'policy', 'set', '--capability', 'openai/files', '--max-request-body-bytes', '1000'])
    chat = await mint(tv, ['openai/chat-completions', 'openai/files'])
    s3 = await mint(tv, ['aws-s3/write'])
    served = await startServe(tv, resolveEnv(up))
  })

  beforeEach(() => {
    up.reset()
    up.route('*', '/', echo())
  })

  after(async () => {
    await served?.stop()
    await up?.close()
    tv?.dispose()
  })

  it('the upstream receives the first part of a chunked body before the caller has sent the rest', async () => {
    const first = Buffer.from('{"model":"gpt-e2e","messages":[{"role":"user","content":"first part, ')
    const rest = Buffer.from('then the rest"}]}')
    let seen = 0
    let firstArrived!: () => void
    const arrived = new Promise<void>((resolve) => (firstArrived = resolve))
    const stop = up.watchBodies((pathname, chunk) => {
      seen += chunk.length
      if (pathname === '/v1/chat/completions' && seen >= first.length) firstArrived()
    })
    try {
      const {req, reply} = openUpload(served, '/v/openai/v1/chat/completions', {authorization: `Bearer ${chat.token}`, 'content-type': 'application/json'})
      req.write(first)
      await within(arrived, 15_000, 'the upstream saw nothing of the body while the caller held back its end: serve collected it first')
      req.end(rest)
      const answer = await reply
      assert.equal(answer.status, 200, answer.body)
    } finally {
      stop()
    }
    const got = up.last()
    assert.ok(got, 'the upstream saw no request')
    assert.deepEqual(got.body, Buffer.concat([first, rest]))
    assert.equal(got.headers['transfer-encoding'], 'chunked', 'a body without a declared length goes chunked')
    assert.equal(got.headers['content-length'], undefined)
    assert.equal(got.headers.authorization, `Bearer ${OPENAI_KEY}`)
  })

  it("a body with a declared length goes with that length, byte for byte (binary, 3 MB)", async () => {
    const body = crypto.randomBytes(3 << 20)
    const {req, reply} = openUpload(served, '/v/openai/v1/chat/completions', {authorization: `Bearer ${chat.token}`, 'content-type': 'application/octet-stream', 'content-length': String(body.length)})
    req.end(body)
    const answer = await reply
    assert.equal(answer.status, 200, answer.body.slice(0, 300))
    const got = up.last()
    assert.equal(got?.headers['content-length'], String(body.length))
    assert.ok(got?.body.equals(body), 'the upstream got other bytes than the caller sent')
  })

  it('the openai SDK uploads a file (multipart) through serve: the upstream gets the file bytes and the real key', async () => {
    const content = Buffer.from('{"prompt":"hello","completion":"world"}\n{"prompt":"a","completion":"b"}\n')
    const client = new OpenAI({baseURL: `${served.base}/v/openai/v1`, apiKey: chat.token, maxRetries: 0, timeout: 30_000})
    await client.files.create({file: await toFile(content, 'train.jsonl'), purpose: 'fine-tune'})
    const got = up.last()
    assert.equal(got?.pathname, '/v1/files')
    assert.match(got?.headers['content-type'] ?? '', /^multipart\/form-data; boundary=/)
    assert.ok(got?.body.includes(content), 'the file bytes did not arrive whole')
    assert.match(got?.body.toString('latin1') ?? '', /name="purpose"\r\n\r\nfine-tune\r\n/)
    assert.equal(got?.headers.authorization, `Bearer ${OPENAI_KEY}`)
    assert.ok(!got?.body.toString('latin1').includes(chat.token), 'the proxy token went upstream')
  })

  it('a policy limit holds for a streamed body: a declared length over it is refused before anything is sent', async () => {
    const {req, reply} = openUpload(served, '/v/openai/v1/files', {authorization: `Bearer ${chat.token}`, 'content-length': '5000'})
    req.end(Buffer.alloc(5000, 'a'))
    assertProblem(await reply, 413, 'body_too_large', 'declared 5000 bytes, policy 1000')
    assert.equal(up.requests.length, 0, 'a refused body reached the upstream')
  })

  it('a policy limit holds for a streamed body: a chunked one is cut off once it passes the limit, and never arrives whole', async () => {
    const {req, reply} = openUpload(served, '/v/openai/v1/files', {authorization: `Bearer ${chat.token}`})
    for (let i = 0; i < 5; i++) req.write(Buffer.alloc(1000, 'b'))
    req.end()
    assertProblem(await reply, 413, 'body_too_large', 'chunked 5000 bytes, policy 1000')
    // Whatever serve sent upstream for the refused call went before its 413; the next call
    // reaching the upstream proves the upstream has had those bytes (no fixed wait).
    const next = openUpload(served, '/v/openai/v1/chat/completions', {authorization: `Bearer ${chat.token}`, 'content-type': 'application/json'})
    next.req.end('{"after":"the refused upload"}')
    assert.equal((await next.reply).status, 200)
    assert.equal(up.last()?.pathname, '/v1/chat/completions')
    assert.ok(up.requests.every((r) => r.body.length <= 1000), `the upstream received ${up.requests.map((r) => r.body.length).join(', ')} bytes`)
  })

  it('a caller that goes away mid-upload ends only its own call: serve keeps answering', async () => {
    for (let i = 0; i < 3; i++) {
      const {req, reply} = openUpload(served, '/v/openai/v1/chat/completions', {authorization: `Bearer ${chat.token}`})
      reply.catch(() => {}) // the aborted call has no answer to wait for
      req.write(Buffer.alloc(2000, 'c'))
      await new Promise((r) => setTimeout(r, i * 20))
      req.destroy()
    }
    const {req, reply} = openUpload(served, '/v/openai/v1/chat/completions', {authorization: `Bearer ${chat.token}`, 'content-type': 'application/json'})
    req.end('{"after":"the aborted uploads"}')
    const answer = await reply
    assert.equal(answer.status, 200, answer.body)
    assert.equal(served.proc.exitCode, null, `serve exited: ${served.output()}`)
  })

  it('a body the auth signs (S3 SigV4) is collected and signed whole: the payload hash is that of the bytes that arrive', async () => {
    const body = Buffer.from('line one\n'.repeat(2000))
    const {req, reply} = openUpload(served, '/v/aws-s3/upload-bucket/notes.txt', {authorization: `Bearer ${s3.token}`, 'content-type': 'text/plain'}, 'PUT')
    req.write(body.subarray(0, 1000))
    await new Promise((r) => setTimeout(r, 50))
    req.end(body.subarray(1000))
    const answer = await reply
    assert.equal(answer.status, 200, answer.body.slice(0, 300))
    const got = up.last()
    assert.ok(got?.body.equals(body), 'the upstream got other bytes than the caller sent')
    assert.equal(got?.headers['x-amz-content-sha256'], crypto.createHash('sha256').update(body).digest('hex'))
    assert.equal(got?.headers['content-length'], String(body.length), 'a collected body goes with its length')
    assert.match(got?.headers.authorization ?? '', new RegExp(`^AWS4-HMAC-SHA256 Credential=${AWS_KEY_ID}/`))
  })
})

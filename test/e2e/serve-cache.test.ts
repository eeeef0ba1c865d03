/**
 * `aivault serve` keeps what it resolved (routes, decrypted material, token answers, record
 * stat stamps) while the vault's folders are unchanged, and collects small upstream answers
 * whole instead of streaming them. These tests pin down what must not change because of that:
 * a change made with the CLI is seen by the very next request, small and large answers are
 * scrubbed the same way, and response limits hold on both paths.
 */
import * as assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as path from 'node:path'
import type * as http from 'node:http'

import {withFileLock} from '../../src/vault/store/lock'
import {TempVault, assertNoSecrets} from './fixture'
import {assertProblem, mint, request, startServe, type Minted, type Served} from './serve-helpers'
import {json, resolveEnv, startUpstream, type RecordedRequest, type Upstream} from './upstream'

const OPENAI_KEY = 'sk-serve-cache-OPENAI-SECRET-0123456789'
const GITHUB_V1 = 'ghp_serve-cache-FIRST-value-0001'
const GITHUB_V2 = 'ghp_serve-cache-SECOND-value-0002'
const REAL_KEYS = [OPENAI_KEY, GITHUB_V1, GITHUB_V2]

/** A body of `size` bytes of filler with the key written at each offset. */
function bodyWithKey(size: number, offsets: number[]): Buffer {
  const body = Buffer.alloc(size, '.')
  for (const at of offsets) body.write(OPENAI_KEY, at, 'latin1')
  return body
}

function send(body: Buffer, options: {chunked: boolean}) {
  return (_req: RecordedRequest, res: http.ServerResponse) => {
    if (options.chunked) {
      res.writeHead(200, {'content-type': 'text/plain'})
      // Two writes, the key (when there is one) split between them.
      const cut = Math.max(1, body.indexOf(OPENAI_KEY) + 5)
      res.write(body.subarray(0, cut))
      res.end(body.subarray(cut))
    } else {
      res.writeHead(200, {'content-type': 'text/plain', 'content-length': String(body.length)}).end(body)
    }
  }
}

describe('e2e serve: cached routes see every change, and every answer is scrubbed', function () {
  this.timeout(120_000)
  let up: Upstream
  let tv: TempVault
  let serve: Served
  let tOpenAI: Minted
  const tokens: string[] = []
  const v = (credential: string, rest: string) => `${serve.base}/v/${credential}${rest}`
  const lastTo = (host: string) => [...up.requests].reverse().find((r) => r.headers.host === host)
  const replies: string[] = []

  before(async () => {
    up = await startUpstream()
    tv = new TempVault()
    tv.ok(['init', '--testing'])
    tv.createSecret('OPENAI_API_KEY', OPENAI_KEY)
    tv.createSecret('GITHUB_TOKEN', GITHUB_V1)
    tOpenAI = await mint(tv, ['openai/models', 'openai/files'])
    tokens.push(tOpenAI.token)
    up.route('GET', '/v1/models/small', send(bodyWithKey(2000, [10, 1500]), {chunked: false}), {host: 'api.openai.com'})
    up.route('GET', '/v1/models/large', send(bodyWithKey(600_000, [0, 65_530, 262_140, 599_000 - OPENAI_KEY.length]), {chunked: false}), {host: 'api.openai.com'})
    up.route('GET', '/v1/models/chunked', send(bodyWithKey(3000, [1000]), {chunked: true}), {host: 'api.openai.com'})
    up.route('GET', '/v1/files', send(Buffer.from(JSON.stringify({object: 'list', data: [{id: 'file-1', filename: 'x'.repeat(300)}]})), {chunked: false}), {host: 'api.openai.com'})
    up.route('GET', '/users', json(200, {login: 'octocat'}), {host: 'api.github.com'})
    serve = await startServe(tv, resolveEnv(up))
  })

  after(async () => {
    await serve?.stop()
    await up?.close()
    tv?.dispose()
  })

  const get = async (url: string, token = tOpenAI.token) => {
    const reply = await request(url, {headers: {authorization: `Bearer ${token}`}})
    replies.push(reply.body)
    return reply
  }

  for (const [name, size, copies] of [['small', 2000, 2], ['large', 600_000, 4], ['chunked', 3000, 1]] as const) {
    it(`a ${name} answer arrives whole, same length class, every copy of the key replaced`, async () => {
      const reply = await get(v('openai', `/v1/models/${name}`))
      assert.equal(reply.status, 200, reply.body.slice(0, 300))
      assert.ok(!reply.body.includes(OPENAI_KEY), 'the key came back')
      assert.equal(reply.body.split('[REDACTED]').length - 1, copies)
      const expected = size + copies * ('[REDACTED]'.length - OPENAI_KEY.length)
      assert.equal(Buffer.byteLength(reply.body), expected)
      if (reply.headers['content-length'] !== undefined) assert.equal(Number(reply.headers['content-length']), expected)
    })
  }

  it('a small answer is sent with its (scrubbed) content-length; a streamed one is chunked', async () => {
    assert.ok((await get(v('openai', '/v1/models/small'))).headers['content-length'] !== undefined)
    assert.equal((await get(v('openai', '/v1/models/chunked'))).headers['transfer-encoding'], 'chunked')
  })

  it('a response limit set while serving applies to the next (collected) answer: 413 body_too_large', async () => {
    assert.equal((await get(v('openai', '/v1/files'))).status, 200)
    tv.ok(['capability', 'policy', 'set', '--capability', 'openai/files', '--max-response-body-bytes', '100'])
    assertProblem(await get(v('openai', '/v1/files')), 413, 'body_too_large')
    tv.ok(['capability', 'policy', 'set', '--capability', 'openai/files', '--max-response-body-bytes', '100000'])
    assert.equal((await get(v('openai', '/v1/files'))).status, 200)
  })

  it('a capability created or deleted while serving changes which one the very next passthrough call matches', async () => {
    const small = v('openai', '/v1/models/small')
    assert.equal((await get(small)).status, 200) // openai/models, which tOpenAI covers
    tv.ok(['capability', 'create', 'openai/models-small', '--credential', 'openai', '--method', 'GET', '--path', '/v1/models/small'])
    // The longer prefix wins now, and tOpenAI does not cover it.
    assertProblem(await get(small), 403, 'policy_violation')
    const token = await mint(tv, ['openai/models-small'])
    tokens.push(token.token)
    assert.equal((await get(small, token.token)).status, 200)
    tv.ok(['capability', 'delete', 'openai/models-small'])
    assert.equal((await get(small)).status, 200)
  })

  it('a secret rotated while serving is what the very next request carries', async () => {
    const token = await mint(tv, ['github/users'])
    tokens.push(token.token)
    assert.equal((await get(v('github', '/users/octocat'), token.token)).status, 200)
    assert.equal(lastTo('api.github.com')?.headers.authorization, `Bearer ${GITHUB_V1}`)
    const rotated = await tv.runAsync(['secrets', 'rotate', '--name', 'GITHUB_TOKEN', '--value-stdin'], {input: GITHUB_V2})
    assert.equal(rotated.status, 0, rotated.stderr)
    assert.equal((await get(v('github', '/users/octocat'), token.token)).status, 200)
    assert.equal(lastTo('api.github.com')?.headers.authorization, `Bearer ${GITHUB_V2}`)
  })

  it('a credential deleted while serving is gone for the very next request', async () => {
    const token = await mint(tv, ['github/users'])
    tokens.push(token.token)
    assert.equal((await get(v('github', '/users/octocat'), token.token)).status, 200)
    tv.ok(['credential', 'delete', 'github'])
    assertProblem(await get(v('github', '/users/octocat'), token.token), 404, 'credential_not_found')
  })

  /** Today's capability.invoke lines, as serve has written them so far. */
  const invokeLines = () => fs.readFileSync(path.join(tv.root, 'audit', `${new Date().toISOString().slice(0, 10)}.jsonl`), 'utf8').split('\n').filter((l) => l.includes('"capability.invoke"'))
  /** Serve answers before its audit group is on disk: wait for the event, not for a time. */
  const waitFor = async (what: string, check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25))
    assert.ok(check(), `timed out waiting for ${what}`)
  }
  const untilInvokeLines = (count: number) => waitFor(`${count} capability.invoke lines on disk`, () => invokeLines().length >= count)

  it('an audit write that fails is reported on stderr; answers keep coming and the chain stays intact', async () => {
    const small = v('openai', '/v1/models/small')
    const before = invokeLines().length
    assert.equal((await get(small)).status, 200)
    await untilInvokeLines(before + 1)
    // A directory where today's log file should be: the next group cannot be written.
    const day = path.join(tv.root, 'audit', `${new Date().toISOString().slice(0, 10)}.jsonl`)
    fs.renameSync(day, `${day}.aside`)
    fs.mkdirSync(day)
    try {
      assert.equal((await get(small)).status, 200)
      await waitFor('the audit warning', () => serve.output().includes('aivault serve: could not write the audit log'))
      assert.equal((await get(small)).status, 200, 'serve is still answering')
    } finally {
      // Put the file back under serve's own audit lock: a group is never written half-way through.
      await withFileLock(path.join(tv.root, 'run', 'audit.lock'), () => {
        fs.rmdirSync(day)
        fs.renameSync(`${day}.aside`, day)
      }, tv.root)
    }
    // Groups are written in order: once this (other) call's line is the last on disk, every
    // earlier group is settled.
    assert.equal((await get(v('openai', '/v1/models/chunked'))).status, 200)
    await waitFor('the last call on disk', () => invokeLines().at(-1)?.includes('"path":"/v1/models/chunked"') === true)
    const verified = tv.ok(['audit', 'verify'])
    assert.match(verified, /intact/)
  })

  it("each call's capability.invoke line is exactly JSON.stringify of its fields, in order, with its own method, path and status", async () => {
    const calls: Array<[string, number]> = [['/v1/models/small', 200], ['/v1/models/chunked', 200], ['/v1/models/small', 200], ['/v1/models/missing', 404]]
    up.route('GET', '/v1/models/missing', json(404, {error: 'no such model'}), {host: 'api.openai.com'})
    const before = invokeLines().length
    for (const [p, status] of calls) assert.equal((await get(v('openai', p))).status, status)
    await untilInvokeLines(before + calls.length)
    const lines = invokeLines().slice(before)
    assert.equal(lines.length, calls.length, lines.join('\n'))
    for (const [i, line] of lines.entries()) {
      const e = JSON.parse(line)
      const expected = {ts: e.ts, kind: 'capability.invoke', capability: 'openai/models', clientIp: e.clientIp, credential: 'openai', method: 'GET', host: 'api.openai.com', path: calls[i][0], status: calls[i][1], durationMs: e.durationMs, prev: e.prev}
      assert.equal(line, JSON.stringify(expected))
      assert.ok(Number.isInteger(e.durationMs) && e.durationMs >= 0, line)
    }
  })

  it('no key and no token in any reply or in what serve printed', () => {
    assertNoSecrets({replies: replies.join('\n'), serve: serve.output()}, [...REAL_KEYS, ...tokens])
  })
})

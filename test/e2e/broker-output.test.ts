/**
 * End-to-end tests of what the caller sees (SPEC §9, §15): raw bodies, `--fail`, the `json`
 * and `markdown` shapes, streaming; and of credential resolution and its audit trail (§6, §12).
 */
import * as assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {gunzipSync, gzipSync} from 'node:zlib'

import {CLI, TempVault, cloneTempVault, expectJsonError, mapLimit, parseJson} from './fixture'
import {SENSITIVE_RESPONSE_HEADERS, json, resolveEnv, sensitiveHeaders, sse, startUpstream, text, type RecordedRequest, type Upstream} from './upstream'

const KEY = 'sk-output-e2e-SECRET-global-000000'

const KNOWN = {
  user_id: 42,
  name: 'Ada Lovelace',
  nick: '',
  blank: '   ',
  tags: ['math', 'engines'],
  empty_list: [],
  empty_obj: {},
  nothing: null,
  active: true,
  score: 9.5,
  'home-town': 'London',
  profile: {zip: null, 'street_name': 'St James', secret_note: 'hidden'},
  items: [{id: 1, label: 'first'}, {id: 2, secret_note: 'also hidden', label: 'second'}],
  bio: 'Wrote the first program.',
}

const EXPECTED_MARKDOWN = [
  '# Active', '', 'true', '',
  '# Bio', '', 'Wrote the first program.', '',
  '# Blank', '', 'None', '',
  '# Empty List', '', 'None', '',
  '# Empty Obj', '', 'None', '',
  '# Home Town', '', 'London', '',
  '# Items', '', '<begin items>',
  '# Id', '', '1', '', '# Label', '', 'first',
  '',
  '# Id', '', '2', '', '# Label', '', 'second', '', '# Secret Note', '', 'also hidden',
  '</end items>', '',
  '# Name', '', 'Ada Lovelace', '',
  '# Nick', '', 'None', '',
  '# Nothing', '', 'None', '',
  '# Profile', '', '<begin profile>',
  '# Secret Note', '', 'hidden', '', '# Street Name', '', 'St James', '', '# Zip', '', 'None',
  '</end profile>', '',
  '# Score', '', '9.5', '',
  '# Tags', '', '  - math', '  - engines', '',
  '# User Id', '', '42',
].join('\n')

describe('e2e broker: output modes and streaming', function () {
  this.timeout(120_000)
  let up: Upstream
  let tv: TempVault
  let env: Record<string, string>
  const invoke = (cmd: string, args: string[]) => tv.runAsync([cmd, ...args], {env})

  before(async () => {
    up = await startUpstream()
    env = resolveEnv(up)
    tv = new TempVault()
    tv.ok(['init', '--testing'])
    tv.createSecret('OPENAI_API_KEY', KEY)
    up.route('GET', '/v1/models/known', json(200, KNOWN, {'x-upstream-note': 'header-value-never-printed'}))
    up.route('GET', '/v1/models/text', text(200, 'plain body bytes\nsecond line', {'x-upstream-note': 'header-value-never-printed'}))
    up.route('GET', '/v1/models/missing', json(404, {error: {message: 'no such model'}}))
    up.route('GET', '/v1/models/broken', json(500, {error: 'boom'}))
    up.route('GET', '/v1/models/sensitive', sensitiveHeaders({ok: true, id: 'sensitive-1'}))
  })

  after(async () => {
    await up?.close()
    tv?.dispose()
  })

  it('raw invoke prints the body bytes only: no status line, no headers', async () => {
    const [textOut, jsonOut] = await Promise.all([
      invoke('invoke', ['openai/models', '--path', '/v1/models/text']),
      invoke('invoke', ['openai/models', '--path', '/v1/models/known']),
    ])
    assert.equal(textOut.status, 0, textOut.stderr)
    assert.equal(textOut.stdout, 'plain body bytes\nsecond line')
    assert.equal(textOut.stderr, '')
    assert.equal(jsonOut.status, 0)
    assert.equal(jsonOut.stdout, JSON.stringify(KNOWN))
    assert.ok(!(textOut.stdout + jsonOut.stdout + jsonOut.stderr).includes('header-value-never-printed'))
  })

  it('exit 0 for any HTTP status; --fail exits 22 on >= 400 (invoke and json)', async () => {
    const cases: Array<{cmd: string; args: string[]; exit: number}> = [
      {cmd: 'invoke', args: ['--path', '/v1/models/missing'], exit: 0},
      {cmd: 'invoke', args: ['--path', '/v1/models/missing', '--json'], exit: 0},
      {cmd: 'invoke', args: ['--path', '/v1/models/missing', '--fail'], exit: 22},
      {cmd: 'invoke', args: ['--path', '/v1/models/missing', '--fail', '--json'], exit: 22},
      {cmd: 'invoke', args: ['--path', '/v1/models/broken', '--fail'], exit: 22},
      {cmd: 'invoke', args: ['--path', '/v1/models/known', '--fail'], exit: 0},
      {cmd: 'json', args: ['--path', '/v1/models/missing'], exit: 0},
      {cmd: 'json', args: ['--path', '/v1/models/missing', '--fail'], exit: 22},
    ]
    const results = await mapLimit(cases, 4, (c) => invoke(c.cmd, ['openai/models', ...c.args]))
    for (const [i, result] of results.entries()) {
      assert.equal(result.status, cases[i].exit, `${cases[i].cmd} ${cases[i].args.join(' ')}: exit ${result.status}\n${result.stdout}${result.stderr}`)
    }
    assert.equal(results[0].stdout, JSON.stringify({error: {message: 'no such model'}}))
    assert.equal(parseJson(results[1]).response.status, 404)
    assert.deepEqual(parseJson(results[6]).response, {status: 404, json: {error: {message: 'no such model'}}})
  })

  it('`json` and `invoke --json` print {planned: {capability, credential, method, url}, response: {status, json}}', async () => {
    const [viaJson, viaInvoke] = await Promise.all([
      invoke('json', ['openai/models', '--path', '/v1/models/known?limit=5&after=m%201']),
      invoke('invoke', ['openai/models', '--path', '/v1/models/known?limit=5&after=m%201', '--json']),
    ])
    const expected = {
      planned: {capability: 'openai/models', credential: 'openai', method: 'GET', url: 'https://api.openai.com/v1/models/known?limit=5&after=m%201'},
      response: {status: 200, json: KNOWN},
    }
    for (const result of [viaJson, viaInvoke]) {
      assert.equal(result.status, 0, result.stdout + result.stderr)
      assert.deepEqual(parseJson(result), expected)
      assert.ok(!result.stdout.includes('header-value-never-printed'), 'a response header was printed')
    }
  })

  it('markdown renders the JSON body by the SPEC §15 rules (md alias too)', async () => {
    const [markdown, md] = await Promise.all([
      invoke('markdown', ['openai/models', '--path', '/v1/models/known']),
      invoke('md', ['openai/models', '--path', '/v1/models/known']),
    ])
    for (const result of [markdown, md]) {
      assert.equal(result.status, 0, result.stderr)
      assert.ok(result.stdout.endsWith('\n'))
      assert.equal(result.stdout.replace(/\n+$/, ''), EXPECTED_MARKDOWN)
    }
  })

  it('markdown --namespace, --exclude-field (at any depth) and --wrap-field', async () => {
    const [namespaced, excluded, wrapped] = await Promise.all([
      invoke('markdown', ['openai/models', '--path', '/v1/models/known', '--namespace', 'ada']),
      invoke('markdown', ['openai/models', '--path', '/v1/models/known', '--exclude-field', 'secret_note', '--exclude-field', 'tags']),
      invoke('md', ['openai/models', '--path', '/v1/models/known', '--wrap-field', 'bio']),
    ])
    assert.equal(namespaced.status, 0, namespaced.stderr)
    assert.ok(namespaced.stdout.startsWith('<begin ada>\n'), namespaced.stdout.slice(0, 40))
    assert.equal(namespaced.stdout.replace(/\n+$/, ''), `<begin ada>\n${EXPECTED_MARKDOWN}\n</end ada>`)

    assert.equal(excluded.status, 0, excluded.stderr)
    const withoutExcluded = EXPECTED_MARKDOWN
      .replace('\n\n# Secret Note\n\nalso hidden', '')
      .replace('# Secret Note\n\nhidden\n\n', '')
      .replace('# Tags\n\n  - math\n  - engines\n\n', '')
    assert.ok(!withoutExcluded.includes('hidden') && !withoutExcluded.includes('# Tags'))
    assert.equal(excluded.stdout.replace(/\n+$/, ''), withoutExcluded)

    assert.equal(wrapped.status, 0, wrapped.stderr)
    assert.equal(wrapped.stdout.replace(/\n+$/, ''), EXPECTED_MARKDOWN.replace('# Bio\n\nWrote the first program.', '# Bio\n\n<begin bio>\nWrote the first program.\n</end bio>'))
  })

  it('responses with set-cookie, x-api-key and hop-by-hop headers still succeed; none of their values is printed', async () => {
    const [raw, asJson] = await Promise.all([
      invoke('invoke', ['openai/models', '--path', '/v1/models/sensitive']),
      invoke('invoke', ['openai/models', '--path', '/v1/models/sensitive', '--json']),
    ])
    assert.equal(raw.status, 0, raw.stderr)
    assert.equal(raw.stdout, JSON.stringify({ok: true, id: 'sensitive-1'}))
    assert.equal(asJson.status, 0, asJson.stderr)
    assert.deepEqual(parseJson(asJson).response, {status: 200, json: {ok: true, id: 'sensitive-1'}})
    const values = Object.values(SENSITIVE_RESPONSE_HEADERS).flat().filter((v) => v.length > 8)
    for (const value of [...values, 'req_fixture_1']) {
      assert.ok(!(raw.stdout + raw.stderr + asJson.stdout + asJson.stderr).includes(value), `response header value ${value} was printed`)
    }
  })

  it('--stream forwards the first SSE event before the upstream has finished, scrubbing secrets', async () => {
    const events = [{n: 0, delta: 'Hel'}, {n: 1, delta: 'lo'}, {n: 2, echo: KEY}, {n: 3, delta: '!'}, '[DONE]']
    const handler = up.route('POST', '/v1/chat/completions', sse(events, {delayMs: 300}))
    const chunks: Array<{at: number; data: string}> = []
    const started = Date.now()
    const child = spawn(process.execPath, [CLI, 'invoke', 'openai/chat-completions', '--method', 'POST', '--path', '/v1/chat/completions',
      '--body', '{"stream":true}', '--header', 'content-type=application/json', '--stream'], {env: {...tv.env, ...env}, cwd: tv.base})
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => chunks.push({at: Date.now(), data: d.toString('utf8')}))
    child.stderr.on('data', (d: Buffer) => (stderr += d))
    child.stdin.end()
    const code = await new Promise<number>((resolve, reject) => {
      child.on('error', reject)
      child.on('close', (c) => resolve(c ?? -1))
    })
    assert.equal(code, 0, stderr)
    assert.equal(handler.sentAt.length, events.length, 'the upstream did not send every event')
    const lastSent = handler.sentAt[handler.sentAt.length - 1]
    assert.ok(chunks.length >= 2, `stdout arrived in ${chunks.length} chunk(s)`)
    const first = chunks[0]
    assert.ok(first.at < lastSent, `first stdout data at +${first.at - started} ms, upstream finished at +${lastSent - started} ms`)
    assert.ok(first.data.includes('"n":0') && !first.data.includes('[DONE]'), `first chunk: ${first.data}`)
    const all = chunks.map((c) => c.data).join('')
    const expected = events.map((e) => `data: ${typeof e === 'string' ? e : JSON.stringify(e)}\n\n`).join('').replace(KEY, '[REDACTED]')
    assert.equal(all, expected)
    assert.ok(!all.includes(KEY))
  })

  it('--stream scrubs a secret that the upstream splits across two writes', async () => {
    up.route('GET', '/v1/models/split', async (_req, res, signal) => {
      res.writeHead(200, {'content-type': 'text/plain'})
      res.flushHeaders()
      res.write(`before ${KEY.slice(0, 12)}`)
      await new Promise((resolve) => setTimeout(resolve, 250))
      if (!signal.aborted) res.end(`${KEY.slice(12)} after`)
    })
    const [streamed, buffered] = await Promise.all([
      invoke('invoke', ['openai/models', '--path', '/v1/models/split', '--stream']),
      invoke('invoke', ['openai/models', '--path', '/v1/models/split']),
    ])
    for (const result of [streamed, buffered]) {
      assert.equal(result.status, 0, result.stderr)
      assert.equal(result.stdout, 'before [REDACTED] after')
    }
  })

  it('a compressed response cannot carry an injected secret past the scrubber', async () => {
    // The broker asks for identity encoding; this upstream gzips its echo of the request anyway.
    up.route('GET', '/v1/models/gzip', (req, res) => {
      res.writeHead(200, {'content-type': 'application/json', 'content-encoding': 'gzip'})
      res.end(gzipSync(JSON.stringify({authorization: req.headers.authorization})))
    })
    const chunks: Buffer[] = []
    const child = spawn(process.execPath, [CLI, 'invoke', 'openai/models', '--path', '/v1/models/gzip'], {env: {...tv.env, ...env}, cwd: tv.base})
    child.stdout.on('data', (d: Buffer) => chunks.push(d))
    child.stdin.end()
    const code = await new Promise<number>((resolve, reject) => {
      child.on('error', reject)
      child.on('close', (c) => resolve(c ?? -1))
    })
    const raw = Buffer.concat(chunks)
    let decoded = raw
    try {
      decoded = gunzipSync(raw)
    } catch {
      // Not gzip: the broker decoded (or refused) the body itself.
    }
    assert.ok(!raw.includes(KEY) && !decoded.includes(KEY), `exit ${code}: the caller recovers the key from the response: ${decoded.toString('utf8')}`)
  })

  it('--response-block also replaces plain-text occurrences of the literal', async () => {
    tv.ok(['capability', 'policy', 'set', '--capability', 'openai/files', '--response-block', 'ssn'])
    up.route('GET', '/v1/files/notes', text(200, 'name: Ada; ssn 123-45-6789; ssn again'))
    const result = await invoke('invoke', ['openai/files', '--method', 'GET', '--path', '/v1/files/notes'])
    assert.equal(result.status, 0, result.stderr)
    assert.equal(result.stdout, 'name: Ada; [REDACTED] 123-45-6789; [REDACTED] again')
  })
})

describe('e2e broker: credential resolution and audit (SPEC §6, §12)', function () {
  this.timeout(120_000)
  const GLOBAL = 'sk-resolve-e2e-SECRET-global-1111'
  const WORKSPACE = 'sk-resolve-e2e-SECRET-workspace-22'
  const GROUP = 'sk-resolve-e2e-SECRET-group-333333'
  const ALT = 'sk-resolve-e2e-SECRET-alt-44444444'
  const KEYS: Record<string, string> = {[GLOBAL]: 'global', [WORKSPACE]: 'workspace', [GROUP]: 'group', [ALT]: 'alt'}
  let up: Upstream
  let tv: TempVault
  let env: Record<string, string>
  let altId: string

  const invoke = (args: string[]) => tv.runAsync(['invoke', ...args, '--json'], {env})
  /** Which secret the upstream saw on the newest request to `pathname`. */
  const keyUsed = (pathname: string): string => {
    const req = [...up.requests].reverse().find((r) => r.pathname === pathname) as RecordedRequest
    assert.ok(req, `no request to ${pathname}`)
    return KEYS[(req.headers.authorization ?? '').replace(/^Bearer /, '')] ?? `unknown (${req.headers.authorization})`
  }

  before(async () => {
    up = await startUpstream()
    env = resolveEnv(up)
    tv = new TempVault()
    tv.ok(['init', '--testing'])
    tv.createSecret('OPENAI_API_KEY', GLOBAL)
    tv.createSecret('OPENAI_API_KEY', WORKSPACE, ['--scope', 'workspace', '--workspace-id', 'w1'])
    tv.createSecret('OPENAI_API_KEY', GROUP, ['--scope', 'group', '--workspace-id', 'w1', '--group-id', 'g1'])
    altId = tv.createSecret('ALT_OPENAI_KEY', ALT)
  })

  after(async () => {
    await up?.close()
    tv?.dispose()
  })

  it('auto-provisions openai, openai:ws:w1 and openai:group:w1:g1', () => {
    const ids = tv.json(['credential', 'list']).credentials.map((c: any) => c.id).sort()
    assert.deepEqual(ids, ['openai', 'openai:group:w1:g1', 'openai:ws:w1'])
  })

  it('the most specific scoped credential wins (group > workspace > global); --credential overrides', async () => {
    const cases: Array<{ctx: string[]; path: string; key: string; credential: string}> = [
      {ctx: [], path: '/v1/models/none', key: 'global', credential: 'openai'},
      {ctx: ['--workspace-id', 'w1'], path: '/v1/models/ws', key: 'workspace', credential: 'openai:ws:w1'},
      {ctx: ['--workspace-id', 'w1', '--group-id', 'g1'], path: '/v1/models/group', key: 'group', credential: 'openai:group:w1:g1'},
      {ctx: ['--workspace-id', 'w1', '--group-id', 'g2'], path: '/v1/models/other-group', key: 'workspace', credential: 'openai:ws:w1'},
      {ctx: ['--workspace-id', 'w2'], path: '/v1/models/other-ws', key: 'global', credential: 'openai'},
      {ctx: ['--workspace-id', 'w1', '--credential', 'openai'], path: '/v1/models/explicit', key: 'global', credential: 'openai'},
    ]
    const results = await mapLimit(cases, 3, (c) => invoke(['openai/models', '--path', c.path, ...c.ctx]))
    for (const [i, result] of results.entries()) {
      assert.equal(result.status, 0, `${cases[i].ctx.join(' ')}: ${result.stdout}`)
      assert.equal(parseJson(result).planned.credential, cases[i].credential, cases[i].ctx.join(' '))
      assert.equal(keyUsed(cases[i].path), cases[i].key, cases[i].ctx.join(' '))
    }
  })

  it('a workspace credential used from another workspace is refused and logged as access.denied', async () => {
    const before = up.requests.length
    const result = await invoke(['openai/models', '--path', '/v1/models/denied', '--credential', 'openai:ws:w1', '--workspace-id', 'w2'])
    expectJsonError(result, 1, 'secret_not_accessible')
    assert.equal(up.requests.length, before)
    assert.ok(!result.stdout.includes(WORKSPACE))
    const events = tv.json(['audit']).events as any[]
    const denied = events.find((e) => e.kind === 'access.denied')
    assert.ok(denied, 'no access.denied event')
    assert.equal(denied.workspaceId, 'w2')
    assert.equal(denied.capability, 'openai/models')
    const invokeEvent = events.find((e) => e.kind === 'capability.invoke')
    assert.equal(invokeEvent.error, 'secret_not_accessible')
    assert.equal(typeof invokeEvent.durationMs, 'number')
  })

  it('a secret binding to a workspace-scoped secret, used from another workspace, is secret_not_accessible and logs access.denied', async () => {
    const wsSecret = (tv.json(['secrets', 'list', '--scope', 'workspace', '--workspace-id', 'w1']).secrets as any[]).find((x) => x.name === 'OPENAI_API_KEY')
    assert.ok(wsSecret, 'no workspace secret listed')
    tv.ok(['capability', 'bind', '--capability', 'openai/speech', '--secret-ref', `vault:secret:${wsSecret.id}`])
    const before = up.requests.length
    const [other, own] = await Promise.all([
      invoke(['openai/speech', '--path', '/v1/audio/speech', '--body', '{}', '--workspace-id', 'w2']),
      invoke(['openai/speech', '--path', '/v1/audio/speech', '--body', '{}', '--workspace-id', 'w1']),
    ])
    expectJsonError(other, 1, 'secret_not_accessible')
    assert.equal(own.status, 0, own.stdout)
    assert.equal(up.requests.length, before + 1)
    assert.equal(keyUsed('/v1/audio/speech'), 'workspace')
    const denied = (tv.json(['audit']).events as any[]).filter((e) => e.kind === 'access.denied' && e.capability === 'openai/speech')
    assert.equal(denied.length, 1)
    assert.equal(denied[0].workspaceId, 'w2')
    assert.ok(!other.stdout.includes(WORKSPACE))
  })

  it('a binding beats scope resolution; a consumer-specific binding beats a generic one; a secret binding uses that secret', async () => {
    tv.ok(['capability', 'bind', '--capability', 'openai/embeddings', '--credential', 'openai', '--workspace-id', 'w1'])
    tv.ok(['capability', 'bind', '--capability', 'openai/embeddings', '--credential', 'openai:ws:w1', '--workspace-id', 'w1', '--consumer', 'summarizer'])
    tv.ok(['capability', 'bind', '--capability', 'openai/moderation', '--secret-ref', `vault:secret:${altId}`])
    const [bound, consumer, otherWs, secretBound] = await Promise.all([
      invoke(['openai/embeddings', '--path', '/v1/embeddings/bound', '--body', '{}', '--workspace-id', 'w1']),
      invoke(['openai/embeddings', '--path', '/v1/embeddings/consumer', '--body', '{}', '--workspace-id', 'w1', '--consumer', 'summarizer']),
      invoke(['openai/embeddings', '--path', '/v1/embeddings/unbound', '--body', '{}', '--workspace-id', 'w1', '--group-id', 'g1', '--consumer', 'other']),
      invoke(['openai/moderation', '--path', '/v1/moderations/alt', '--body', '{}']),
    ])
    for (const r of [bound, consumer, otherWs, secretBound]) assert.equal(r.status, 0, r.stdout)
    // The workspace binding names the global credential, beating the workspace credential.
    assert.equal(keyUsed('/v1/embeddings/bound'), 'global')
    assert.equal(parseJson(bound).planned.credential, 'openai')
    assert.equal(keyUsed('/v1/embeddings/consumer'), 'workspace')
    // In group g1 there is no group binding: the workspace binding still applies.
    assert.equal(keyUsed('/v1/embeddings/unbound'), 'global')
    assert.equal(keyUsed('/v1/moderations/alt'), 'alt')
    assert.ok(!secretBound.stdout.includes(ALT))
  })

  it('two credentials of the same rank are credential_ambiguous, listing both, with no request', async () => {
    const clone = cloneTempVault(tv)
    try {
      const alt2 = clone.createSecret('ALT_OPENAI_KEY_2', 'sk-resolve-e2e-SECRET-alt2-5555555')
      clone.ok(['credential', 'create', 'openai-second', '--provider', 'openai', '--secret-ref', `vault:secret:${alt2}`])
      const before = up.requests.length
      const result = await clone.runAsync(['invoke', 'openai/models', '--path', '/v1/models/ambiguous', '--json'], {env})
      const error = expectJsonError(result, 1, 'credential_ambiguous')
      assert.ok(error.message.includes('openai-second') && /\bopenai\b(?!-)/.test(error.message), error.message)
      assert.equal(up.requests.length, before)
      // An explicit --credential resolves the tie.
      const explicit = await clone.runAsync(['invoke', 'openai/models', '--path', '/v1/models/tie', '--credential', 'openai-second', '--json'], {env})
      assert.equal(explicit.status, 0, explicit.stdout)
    } finally {
      clone.dispose()
    }
  })

  it('capability.invoke events carry method, host, redacted path, status, durationMs and context; refusals carry the error code', async () => {
    const ok = await invoke(['openai/models', '--path', '/v1/models/audited?x=1', '--workspace-id', 'w1', '--consumer', 'agent-7', '--client-ip', '10.9.8.7'])
    assert.equal(ok.status, 0, ok.stdout)
    const refused = await invoke(['openai/models', '--path', '/v1/models/refused', '-H', 'authorization=Bearer smuggled'])
    expectJsonError(refused, 1, 'policy_violation')
    const events = (tv.json(['audit']).events as any[]).filter((e) => e.kind === 'capability.invoke')
    const [last, previous] = events
    assert.equal(previous.capability, 'openai/models')
    assert.equal(previous.credential, 'openai:ws:w1')
    assert.equal(previous.method, 'GET')
    assert.equal(previous.host, 'api.openai.com')
    assert.equal(previous.path, '/v1/models/audited')
    assert.equal(previous.status, 200)
    assert.equal(typeof previous.durationMs, 'number')
    assert.equal(previous.workspaceId, 'w1')
    assert.equal(previous.consumer, 'agent-7')
    assert.equal(previous.clientIp, '10.9.8.7')
    assert.equal(previous.error, undefined)
    assert.equal(last.capability, 'openai/models')
    assert.equal(last.error, 'policy_violation')
    assert.equal(typeof last.durationMs, 'number')
    assert.equal(last.status, undefined)
    // SPEC §12: invoke events record the method and host (known here: the refusal is at the header check).
    assert.equal(last.method, 'GET', `refused invoke event: ${JSON.stringify(last)}`)
    assert.equal(last.host, 'api.openai.com', `refused invoke event: ${JSON.stringify(last)}`)
    const text = JSON.stringify(events)
    for (const secret of [GLOBAL, WORKSPACE, GROUP, ALT]) assert.ok(!text.includes(secret))
    const verify = tv.run(['audit', 'verify'])
    assert.equal(verify.status, 0, verify.stdout + verify.stderr)
  })
})

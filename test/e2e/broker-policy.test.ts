/**
 * End-to-end tests of the broker's request checks (SPEC §7, §14, §15): path traversal in every
 * spelling, the SSRF guard, capability policies (rate limit, body sizes, response blocklist),
 * redirects, and the guard that keeps test overrides out of real vaults.
 */
import * as assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {TempVault, expectHumanError, expectJsonError, mapLimit, parseJson, type CliResult} from './fixture'
import {delay, echo, json, largeBody, redirect, resolveEnv, startUpstream, text, type RecordedRequest, type Upstream} from './upstream'

const OPENAI_KEY = 'sk-policy-e2e-SECRET-0123456789'
const CUSTOM_KEY = 'custom-policy-e2e-SECRET-abcdef'

describe('e2e broker: paths, SSRF, policies, redirects', function () {
  this.timeout(120_000)
  let up: Upstream
  let tv: TempVault
  let env: Record<string, string>
  let customSecretId: string

  const invoke = (args: string[], extraEnv: Record<string, string> = {}) => tv.runAsync(['invoke', ...args], {env: {...env, ...extraEnv}})

  before(async () => {
    up = await startUpstream()
    env = resolveEnv(up)
    tv = new TempVault()
    tv.ok(['init', '--testing'])
    tv.createSecret('OPENAI_API_KEY', OPENAI_KEY)
    customSecretId = tv.createSecret('CUSTOM_KEY', CUSTOM_KEY)
    tv.ok(['credential', 'create', 'cust', '--provider', 'cust', '--secret-ref', `vault:secret:${customSecretId}`, '--auth', 'header', '--host', 'api.example.com'])
    tv.ok(['capability', 'create', 'cust/v1', '--credential', 'cust', '--method', 'GET', '--method', 'POST', '--path', '/v1'])
    tv.ok(['capability', 'create', 'cust/chat', '--credential', 'cust', '--method', 'GET', '--path', '/v1/chat'])
  })

  after(async () => {
    await up?.close()
    tv?.dispose()
  })

  describe('path traversal (SPEC §7 step 4, §15)', () => {
    const REFUSED = [
      '/v1/../x', '/v1/..', '/v1/./x', '/v1/.', '/v1/x/../../admin',
      '/v1/%2e%2e/x', '/v1/%2E%2E/x', '/v1/%2e%2E/x', '/v1/.%2e/x', '/v1/%2e./x', '/v1/%2e/x', '/v1/%2E',
      '/v1/%252e%252e/x', '/v1/%252E%252E/x', '/v1/%252e/x',
      '/v1\\..\\x', '/v1/x\\y', '/v1/%5c..%5cx', '/v1/%5C..%5Cx',
      '/v1/a%2fb', '/v1/a%2Fb', '/v1/%2e%2e%2fadmin', '/v1/%252f',
      '/v1/%00', '/v1/a%00b', '/v1/%0d%0a', '/v1/%0D%0AX-Injected:%201', '/v1/%09', '/v1/%1f', '/v1/%7f', '/v1/%7F',
      '/v1/x?q=%0d%0aX-Injected:%201',
      '/v1/a\nb', '/v1/a\r\nX-Injected: 1', '/v1/a\tb', '/v1/a\u0001b', '/v1/a\u001fb', '/v1/a\u007fb',
    ]

    it('refuses every spelling of ".", "..", backslash, encoded slash and control characters before any request', async () => {
      const before = up.requests.length
      const attempts = [
        ...REFUSED.map((p) => ({label: JSON.stringify(p), args: ['cust/v1', '--method', 'GET', '--path', p, '--json']})),
        // A NUL byte cannot travel in argv: send it inside a --request envelope.
        {label: 'raw NUL', args: ['cust/v1', '--request', JSON.stringify({method: 'GET', path: '/v1/a\u0000b'}), '--json']},
        {label: 'raw NUL in query', args: ['cust/v1', '--request', JSON.stringify({method: 'GET', path: '/v1/a?x=\u0000'}), '--json']},
      ]
      const results = await mapLimit(attempts, 4, (a) => invoke(a.args))
      const wrong: string[] = []
      for (const [i, result] of results.entries()) {
        let code: string
        try {
          code = expectJsonError(result, 1).code
        } catch (error) {
          wrong.push(`${attempts[i].label}: ${(error as Error).message.split('\n')[0]}`)
          continue
        }
        if (code !== 'policy_violation') wrong.push(`${attempts[i].label}: ${code}`)
      }
      assert.deepEqual(wrong, [], 'these paths were not refused with policy_violation')
      assert.equal(up.requests.length, before, 'a refused path reached the upstream')
    })

    it('prefixes match whole segments: /v1/chat allows /v1/chat and /v1/chat/x, never /v1/chatty', async () => {
      const before = up.requests.length
      const [chatty, chatX, exact, chatDots] = await Promise.all([
        invoke(['cust/chat', '--path', '/v1/chatty', '--json']),
        invoke(['cust/chat', '--path', '/v1/chat/x', '--json']),
        invoke(['cust/chat', '--path', '/v1/chat', '--json']),
        invoke(['cust/chat', '--path', '/v1/chat..', '--json']),
      ])
      expectJsonError(chatty, 1, 'policy_violation')
      expectJsonError(chatDots, 1, 'policy_violation')
      assert.equal(chatX.status, 0, chatX.stdout)
      assert.equal(exact.status, 0, exact.stdout)
      const paths = up.requests.slice(before).map((r) => r.pathname).sort()
      assert.deepEqual(paths, ['/v1/chat', '/v1/chat/x'])
    })

    it('allows ".." inside a segment (a..b) and dot-prefixed names, sending them unchanged', async () => {
      const before = up.requests.length
      const result = await invoke(['cust/v1', '--method', 'GET', '--path', '/v1/a..b/c...d/..e/.well-known', '--json'])
      assert.equal(result.status, 0, result.stdout)
      assert.equal(up.requests.length, before + 1)
      assert.equal((up.last() as RecordedRequest).pathname, '/v1/a..b/c...d/..e/.well-known')
      assert.equal(parseJson(result).planned.url, 'https://api.example.com/v1/a..b/c...d/..e/.well-known')
    })

    it('a path without a leading "/" and bad percent-encoding are invalid_request; a method the capability lacks is policy_violation', async () => {
      const before = up.requests.length
      const [relative, badPercent, method] = await Promise.all([
        invoke(['cust/v1', '--method', 'GET', '--path', 'v1/x', '--json']),
        invoke(['cust/v1', '--method', 'GET', '--path', '/v1/%zz', '--json']),
        invoke(['cust/v1', '--method', 'DELETE', '--path', '/v1/x', '--json']),
      ])
      expectJsonError(relative, 1, 'invalid_request')
      expectJsonError(badPercent, 1, 'invalid_request')
      expectJsonError(method, 1, 'policy_violation')
      assert.equal(up.requests.length, before)
    })
  })

  describe('SSRF guard (SPEC §7 step 7)', () => {
    /** The test overrides minus AIVAULT_DEV_ALLOW_PRIVATE_UPSTREAMS: the guard is live. */
    const guarded = (resolve: string) => ({AIVAULT_DEV_RESOLVE: resolve, AIVAULT_DEV_CA_CERT_PATH: up.caPath, AIVAULT_DEV_ALLOW_PRIVATE_UPSTREAMS: ''})

    it('control: with AIVAULT_DEV_ALLOW_PRIVATE_UPSTREAMS=1 the same invocation reaches the local upstream', async () => {
      const before = up.requests.length
      const result = await invoke(['cust/v1', '--method', 'GET', '--path', '/v1/ssrf-control', '--json'], {
        ...guarded(`api.example.com=127.0.0.1:${up.port}`), AIVAULT_DEV_ALLOW_PRIVATE_UPSTREAMS: '1',
      })
      assert.equal(result.status, 0, result.stdout)
      assert.equal(up.requests.length, before + 1)
    })

    it('refuses hosts that resolve to loopback, private, link-local, CGNAT, unspecified, unique-local or metadata addresses', async () => {
      const before = up.requests.length
      const addresses = [
        `127.0.0.1:${up.port}`, `[::1]:${up.port}`, `[::ffff:127.0.0.1]:${up.port}`, `[::ffff:7f00:1]:${up.port}`, `[0:0:0:0:0:ffff:127.0.0.1]:${up.port}`,
        '127.1.2.3:443', '[::ffff:a9fe:a9fe]:443', '[64:ff9b::a9fe:a9fe]:443',
        '10.0.0.1:443', '172.16.0.1:443', '192.168.1.1:443', '169.254.169.254:443', '100.64.0.1:443', '100.127.255.254:443',
        '0.0.0.0:443', '[::]:443', '[fd00::1]:443', '[fc00::1]:443', '[fe80::1]:443', '[fd00:ec2::254]:443',
      ]
      const results = await mapLimit(addresses, 4, (address) =>
        invoke(['cust/v1', '--method', 'GET', '--path', '/v1/ssrf', '--timeout-ms', '3000', '--json'], guarded(`api.example.com=${address}`)))
      const wrong: string[] = []
      for (const [i, result] of results.entries()) {
        const body = (() => {
          try {
            return parseJson(result)
          } catch {
            return {}
          }
        })()
        if (result.status !== 1 || body.error?.code !== 'policy_violation') wrong.push(`${addresses[i]}: exit ${result.status} ${result.stdout.trim()}`)
      }
      assert.deepEqual(wrong, [], 'these addresses were not refused with policy_violation')
      assert.equal(up.requests.length, before, 'a request reached the upstream despite the SSRF guard')
    })

    it('refuses a registry provider host that resolves to loopback', async () => {
      const before = up.requests.length
      const result = await invoke(['openai/models', '--json'], guarded(`api.openai.com=127.0.0.1:${up.port}`))
      expectJsonError(result, 1, 'policy_violation')
      assert.equal(up.requests.length, before)
    })

    it('refuses a custom credential whose host is the literal 127.0.0.1', async () => {
      tv.ok(['credential', 'create', 'literal', '--provider', 'literal', '--secret-ref', `vault:secret:${customSecretId}`, '--auth', 'header', '--host', '127.0.0.1'])
      tv.ok(['capability', 'create', 'literal/cap', '--credential', 'literal', '--method', 'GET', '--path', '/v1'])
      const before = up.requests.length
      // Point the literal at the live upstream, so only the guard stands between them.
      const result = await invoke(['literal/cap', '--path', '/v1/x', '--timeout-ms', '3000', '--json'], guarded(`127.0.0.1=127.0.0.1:${up.port}`))
      expectJsonError(result, 1, 'policy_violation')
      const plain = await invoke(['literal/cap', '--path', '/v1/x', '--timeout-ms', '3000', '--json'], {AIVAULT_DEV_RESOLVE: '', AIVAULT_DEV_ALLOW_PRIVATE_UPSTREAMS: ''})
      expectJsonError(plain, 1, 'policy_violation')
      assert.equal(up.requests.length, before)
    })

    it('refuses the literal [::1] (at credential create, or else at invoke)', async () => {
      const created = tv.run(['credential', 'create', 'literal6', '--provider', 'literal6', '--secret-ref', `vault:secret:${customSecretId}`, '--auth', 'header', '--host', '[::1]', '--json'])
      if (created.status !== 0) {
        assert.ok(created.status === 1 || created.status === 2, `exit ${created.status}`)
        assert.equal(parseJson(created).error.code, created.status === 2 ? 'invalid_request' : 'policy_violation')
        assert.ok(!tv.json(['credential', 'list']).credentials.some((c: any) => c.id === 'literal6'))
        return
      }
      tv.ok(['capability', 'create', 'literal6/cap', '--credential', 'literal6', '--method', 'GET', '--path', '/v1'])
      const before = up.requests.length
      const result = await invoke(['literal6/cap', '--path', '/v1/x', '--timeout-ms', '3000', '--json'], guarded(`::1=[::1]:${up.port}`))
      expectJsonError(result, 1, 'policy_violation')
      assert.equal(up.requests.length, before)
    })
  })

  describe('capability policies (SPEC §6)', () => {
    it('--rate-limit-per-minute 2: two separate processes succeed, the third gets rate_limited', async () => {
      tv.ok(['capability', 'policy', 'set', '--capability', 'openai/videos', '--rate-limit-per-minute', '2'])
      const call = () => invoke(['openai/videos', '--method', 'GET', '--path', '/v1/videos', '--json'])
      const before = up.requests.length
      const results: CliResult[] = []
      for (let i = 0; i < 3; i++) results.push(await call())
      assert.equal(results[0].status, 0, results[0].stdout)
      assert.equal(results[1].status, 0, results[1].stdout)
      expectJsonError(results[2], 1, 'rate_limited')
      assert.equal(up.requests.length, before + 2)
      const events = tv.json(['audit']).events.filter((e: any) => e.kind === 'capability.invoke' && e.capability === 'openai/videos')
      assert.equal(events[0].error, 'rate_limited')
      // Another capability of the same credential is not limited.
      const other = await invoke(['openai/chat-completions', '--method', 'GET', '--path', '/v1/chat/completions', '--json'])
      assert.equal(other.status, 0, other.stdout)
      // Clearing the limit (0) lets calls through again.
      tv.ok(['capability', 'policy', 'set', '--capability', 'openai/videos', '--rate-limit-per-minute', '0'])
      const cleared = await call()
      assert.equal(cleared.status, 0, cleared.stdout)
    })

    it('the rate limit holds across concurrent processes: 8 queued at once with a limit of 2 let exactly 2 through', async () => {
      tv.ok(['capability', 'policy', 'set', '--capability', 'openai/responses', '--rate-limit-per-minute', '2'])
      // Make the processes queue: hold the machine-local rate-state lock (as a slow writer would)
      // until every one of them has found it taken (each reports that through a preloaded
      // observer), then let them take it in whatever order they get it.
      const lockDir = path.join(tv.root, 'run', 'ratelimit')
      fs.mkdirSync(lockDir, {recursive: true})
      const lockFile = path.join(lockDir, 'lock')
      const reports = fs.mkdtempSync(path.join(tv.base, 'lock-reports-'))
      const observed = {
        NODE_OPTIONS: `--require ${JSON.stringify(path.join(__dirname, 'helpers', 'report-lock-wait.cjs'))}`,
        AIVAULT_TEST_LOCK_FILE: lockFile,
        AIVAULT_TEST_LOCK_REPORTS: reports,
      }
      fs.writeFileSync(lockFile, `${process.pid}\n`, {flag: 'wx'})
      const before = up.requests.length
      let results: CliResult[]
      try {
        const pending = Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((i) => invoke(['openai/responses', '--method', 'GET', '--path', `/v1/responses/r${i}`, '--json'], observed)))
        let settled: CliResult[] | undefined
        void pending.then((r) => (settled = r))
        for (const deadline = Date.now() + 60_000; fs.readdirSync(reports).length < 8; await new Promise((resolve) => setTimeout(resolve, 20))) {
          if (settled) assert.fail(`a call ended while the lock was held: ${JSON.stringify(settled.map((r) => r.stdout + r.stderr))}`)
          if (Date.now() > deadline) assert.fail(`only ${fs.readdirSync(reports).length} of 8 processes reached the rate-state lock`)
        }
        fs.rmSync(lockFile, {force: true})
        results = await pending
      } finally {
        fs.rmSync(lockFile, {force: true})
      }
      const ok = results.filter((r) => r.status === 0)
      const limited = results.filter((r) => r.status !== 0)
      assert.equal(ok.length, 2, `${ok.length} of 8 concurrent calls passed a limit of 2`)
      for (const r of limited) expectJsonError(r, 1, 'rate_limited')
      assert.equal(up.requests.length, before + 2)
    })

    it('--max-request-body-bytes: a larger body is body_too_large without an upstream request; the limit itself passes', async () => {
      tv.ok(['capability', 'policy', 'set', '--capability', 'openai/embeddings', '--max-request-body-bytes', '16'])
      const before = up.requests.length
      const tooLarge = await invoke(['openai/embeddings', '--body', 'x'.repeat(17), '--json'])
      expectJsonError(tooLarge, 1, 'body_too_large')
      assert.equal(up.requests.length, before)
      const atLimit = await invoke(['openai/embeddings', '--body', 'y'.repeat(16), '--json'])
      assert.equal(atLimit.status, 0, atLimit.stdout)
      assert.equal(up.requests.length, before + 1)
      assert.equal((up.last() as RecordedRequest).body.toString(), 'y'.repeat(16))
    })

    it('--max-response-body-bytes: a larger response is body_too_large (buffered, chunked and streamed); the limit itself passes', async () => {
      tv.ok(['capability', 'policy', 'set', '--capability', 'openai/files', '--max-response-body-bytes', '4096'])
      up.route('GET', '/v1/files/big', largeBody(5000))
      up.route('GET', '/v1/files/big-chunked', largeBody(70_000, {chunked: true}))
      up.route('GET', '/v1/files/exact', largeBody(4096))
      const [big, raw, chunked, streamed, exact] = await Promise.all([
        invoke(['openai/files', '--method', 'GET', '--path', '/v1/files/big', '--json']),
        invoke(['openai/files', '--method', 'GET', '--path', '/v1/files/big']),
        invoke(['openai/files', '--method', 'GET', '--path', '/v1/files/big-chunked', '--json']),
        invoke(['openai/files', '--method', 'GET', '--path', '/v1/files/big-chunked', '--stream']),
        invoke(['openai/files', '--method', 'GET', '--path', '/v1/files/exact']),
      ])
      expectJsonError(big, 1, 'body_too_large')
      expectJsonError(chunked, 1, 'body_too_large')
      assert.equal(expectHumanError(raw, 1).includes('4096'), true)
      assert.equal(streamed.status, 1, `streamed over-limit body exited ${streamed.status}`)
      assert.ok(Buffer.byteLength(streamed.stdout) <= 4096, `--stream printed ${Buffer.byteLength(streamed.stdout)} bytes past a 4096-byte limit`)
      assert.match(streamed.stderr, /^Error: .*4096/m)
      assert.equal(exact.status, 0, exact.stderr)
      assert.equal(exact.stdout.length, 4096)
      assert.match(exact.stdout, /^abcdefghijklmnopqrstuvwxyzabc/)
    })

    it('--response-block email redacts every "email" field at any depth (also with --stream)', async () => {
      tv.ok(['capability', 'policy', 'set', '--capability', 'openai/batch', '--response-block', 'email'])
      const body = {
        id: 'batch_1', email: 'top@example.com',
        owner: {name: 'Ada', email: 'ada@example.com', contact: {email: 'deep@example.com', phone: '555'}},
        members: [{email: 'm1@example.com', role: 'admin'}, {profile: {email: {primary: 'x@example.com'}}}],
        emails: ['kept@example.com'],
      }
      up.route('GET', '/v1/batches', json(200, body))
      const [plain, streamed] = await Promise.all([
        invoke(['openai/batch', '--method', 'GET', '--path', '/v1/batches', '--json']),
        invoke(['openai/batch', '--method', 'GET', '--path', '/v1/batches', '--stream']),
      ])
      assert.equal(plain.status, 0, plain.stdout)
      const expected = {
        id: 'batch_1', email: '[REDACTED]',
        owner: {name: 'Ada', email: '[REDACTED]', contact: {email: '[REDACTED]', phone: '555'}},
        members: [{email: '[REDACTED]', role: 'admin'}, {profile: {email: '[REDACTED]'}}],
        emails: ['kept@example.com'],
      }
      assert.deepEqual(parseJson(plain).response.json, expected)
      assert.equal(streamed.status, 0, streamed.stderr)
      assert.deepEqual(JSON.parse(streamed.stdout), expected)
      for (const out of [plain.stdout, streamed.stdout]) {
        for (const address of ['top@', 'ada@', 'deep@', 'm1@', 'x@example']) assert.ok(!out.includes(address), `${address} leaked`)
      }
    })
  })

  describe('redirects (SPEC §7 step 11, §15)', () => {
    before(() => {
      up.route('GET', '/v1/models/target', echo())
      up.route('GET', '/v1/models/relative', redirect(302, '/v1/models/target?from=relative'))
      up.route('GET', '/v1/models/absolute', redirect(301, 'https://api.openai.com/v1/models/target?from=absolute'))
      up.route('GET', '/v1/models/cross-host', redirect(302, `https://other.example.com/v1/models/target`))
      up.route('GET', '/v1/models/other-port', redirect(307, 'https://api.openai.com:8443/v1/models/target'))
      up.route('GET', '/v1/models/downgrade', redirect(302, 'http://api.openai.com/v1/models/target'))
      up.route('GET', '/v1/models/outside', redirect(302, '/v1/files/x'))
      up.route('GET', '/v1/models/escape', redirect(302, '/v1/models/%2e%2e/%2e%2e/admin'))
    })

    it('are not followed by default: exit 0 and the 3xx status in json output', async () => {
      const before = up.requests.length
      const [jsonOut, raw] = await Promise.all([
        invoke(['openai/models', '--path', '/v1/models/relative', '--json']),
        invoke(['openai/models', '--path', '/v1/models/relative']),
      ])
      assert.equal(jsonOut.status, 0, jsonOut.stdout)
      const out = parseJson(jsonOut)
      assert.equal(out.response.status, 302)
      assert.deepEqual(out.response.json, {redirect: '/v1/models/target?from=relative'})
      assert.equal(raw.status, 0)
      assert.deepEqual(JSON.parse(raw.stdout), {redirect: '/v1/models/target?from=relative'})
      assert.deepEqual(up.requests.slice(before).map((r) => r.pathname), ['/v1/models/relative', '/v1/models/relative'])
    })

    it('--follow-redirects follows same-host hops with the auth re-injected', async () => {
      for (const [start, from] of [['/v1/models/relative', 'relative'], ['/v1/models/absolute', 'absolute']]) {
        const before = up.requests.length
        const result = await invoke(['openai/models', '--path', start, '--follow-redirects', '--json'])
        assert.equal(result.status, 0, result.stdout)
        const out = parseJson(result)
        assert.equal(out.response.status, 200)
        assert.equal(out.response.json.path, `/v1/models/target?from=${from}`)
        assert.equal(out.response.json.headers.authorization, 'Bearer [REDACTED]')
        const hops = up.requests.slice(before)
        assert.deepEqual(hops.map((r) => r.path), [start, `/v1/models/target?from=${from}`])
        for (const hop of hops) {
          assert.equal(hop.headers.authorization, `Bearer ${OPENAI_KEY}`)
          assert.equal(hop.headers.host, 'api.openai.com')
        }
        assert.ok(!result.stdout.includes(OPENAI_KEY))
      }
    })

    it('--follow-redirects refuses hops to another host, port or scheme, or outside the capability', async () => {
      const starts = ['/v1/models/cross-host', '/v1/models/other-port', '/v1/models/downgrade', '/v1/models/outside', '/v1/models/escape']
      const before = up.requests.length
      const results = await mapLimit(starts, 3, (start) => invoke(['openai/models', '--path', start, '--follow-redirects', '--json']))
      for (const [i, result] of results.entries()) {
        assert.equal(expectJsonError(result, 1).code, 'policy_violation', `${starts[i]}: ${result.stdout}`)
        assert.ok(!result.stdout.includes(OPENAI_KEY))
      }
      // Only the first hop of each was sent; nothing went to the redirect targets.
      assert.deepEqual(up.requests.slice(before).map((r) => r.pathname).sort(), [...starts].sort())
    })
  })

  describe('test overrides (SPEC §14, §15)', () => {
    let real: TempVault
    before(() => {
      real = new TempVault()
      real.ok(['init'])
      real.createSecret('OPENAI_API_KEY', OPENAI_KEY)
    })
    after(() => real?.dispose())

    it('a vault created without --testing refuses every AIVAULT_DEV_* variable with invalid_request naming it', async () => {
      assert.equal(real.json(['status']).testing, false)
      assert.equal(tv.json(['status']).testing, true)
      const before = up.requests.length
      const variables: Array<[string, string]> = [
        ['AIVAULT_DEV_RESOLVE', `api.openai.com=127.0.0.1:${up.port}`],
        ['AIVAULT_DEV_CA_CERT_PATH', up.caPath],
        ['AIVAULT_DEV_ALLOW_PRIVATE_UPSTREAMS', '1'],
        ['AIVAULT_DEV_ALLOW_NON_DEFAULT_PORTS', '1'],
      ]
      const results = await mapLimit(variables, 4, ([name, value]) => real.runAsync(['invoke', 'openai/models', '--json'], {env: {[name]: value}}))
      for (const [i, result] of results.entries()) {
        const error = expectJsonError(result, 1, 'invalid_request')
        assert.ok(error.message.includes(variables[i][0]), `message does not name ${variables[i][0]}: ${error.message}`)
      }
      const human = await real.runAsync(['invoke', 'openai/models'], {env: resolveEnv(up)})
      assert.match(expectHumanError(human, 1), /AIVAULT_DEV_/)
      assert.equal(up.requests.length, before)
    })

    it('AIVAULT_DEV_ALLOW_NON_DEFAULT_PORTS=1 allows host:port in custom credential hosts of a testing vault', async () => {
      const portEnv = {AIVAULT_DEV_ALLOW_NON_DEFAULT_PORTS: '1'}
      const created = tv.run(['credential', 'create', 'ported', '--provider', 'ported', '--secret-ref', `vault:secret:${customSecretId}`,
        '--auth', 'header', '--host', `api.example.com:${up.port}`, '--json'], {env: portEnv})
      assert.equal(created.status, 0, `credential create --host api.example.com:${up.port}: ${created.stdout}${created.stderr}`)
      tv.ok(['capability', 'create', 'ported/cap', '--credential', 'ported', '--method', 'GET', '--path', '/v1'], {env: portEnv})
      const before = up.requests.length
      const result = await invoke(['ported/cap', '--path', '/v1/ported', '--json'])
      assert.equal(result.status, 0, result.stdout)
      assert.equal(parseJson(result).planned.url, up.url('api.example.com', '/v1/ported'))
      assert.equal(up.requests.length, before + 1)
      assert.equal((up.last() as RecordedRequest).headers.host, `api.example.com:${up.port}`)
    })
  })

  describe('envelope, headers and upstream failures (SPEC §7, §15)', () => {
    it('reserved caller headers are dropped (the broker owns framing); the request still succeeds', async () => {
      const before = up.requests.length
      const result = await invoke(['cust/v1', '--method', 'post', '--path', '/v1/framing', '--body', 'abc',
        '-H', 'content-length=999', '-H', 'connection=upgrade', '-H', 'upgrade=websocket', '-H', 'te=trailers', '-H', 'keep-alive=timeout=99',
        '-H', 'proxy-connection=keep-alive', '-H', 'sec-websocket-key=dGhlIHNhbXBsZSBub25jZQ==', '-H', 'x-kept=yes', '--json'])
      assert.equal(result.status, 0, result.stdout)
      assert.equal(up.requests.length, before + 1)
      const req = up.last() as RecordedRequest
      // Methods are case-insensitive.
      assert.equal(req.method, 'POST')
      assert.equal(req.body.toString(), 'abc')
      assert.equal(req.headers['content-length'], '3')
      assert.equal(req.headers['x-kept'], 'yes')
      for (const name of ['upgrade', 'te', 'keep-alive', 'proxy-connection', 'sec-websocket-key']) assert.equal(req.headers[name], undefined, `${name} was forwarded`)
      assert.notEqual(req.headers.connection, 'upgrade')
    })

    it('unknown envelope fields and two body modes are invalid_request; --request takes a whole envelope or its request part', async () => {
      const before = up.requests.length
      const [unknown, unknownTop, twoBodies, flagsTwoBodies, whole, part] = await Promise.all([
        invoke(['cust/v1', '--request', JSON.stringify({method: 'GET', path: '/v1/x', frobnicate: true}), '--json']),
        invoke(['cust/v1', '--request', JSON.stringify({request: {method: 'GET', path: '/v1/x'}, extra: 1}), '--json']),
        invoke(['cust/v1', '--request', JSON.stringify({method: 'POST', path: '/v1/x', body: 'a', bodyBase64: 'YQ=='}), '--json']),
        invoke(['cust/v1', '--method', 'POST', '--path', '/v1/x', '--body', 'a', '--multipart-field', 'k=v', '--json']),
        invoke(['cust/v1', '--request', JSON.stringify({capability: 'cust/v1', request: {method: 'POST', path: '/v1/whole', body: 'w'}}), '--json']),
        invoke(['cust/v1', '--request', JSON.stringify({method: 'POST', path: '/v1/part', bodyBase64: Buffer.from('p').toString('base64')}), '--json']),
      ])
      expectJsonError(unknown, 1, 'invalid_request')
      expectJsonError(unknownTop, 1, 'invalid_request')
      expectJsonError(twoBodies, 1, 'invalid_request')
      assert.ok(flagsTwoBodies.status === 1 || flagsTwoBodies.status === 2, `exit ${flagsTwoBodies.status}`)
      assert.equal(parseJson(flagsTwoBodies).error.code, 'invalid_request')
      assert.equal(whole.status, 0, whole.stdout)
      assert.equal(part.status, 0, part.stdout)
      const sent = up.requests.slice(before).map((r) => [r.pathname, r.body.toString()]).sort()
      assert.deepEqual(sent, [['/v1/part', 'p'], ['/v1/whole', 'w']])
    })

    it('an upstream slower than --timeout-ms (or the envelope timeoutMs) is upstream_timeout; a closed port is upstream_unreachable', async () => {
      up.route('GET', '/v1/slow', delay(5000))
      const started = Date.now()
      const [flag, envelope, closed] = await Promise.all([
        invoke(['cust/v1', '--method', 'GET', '--path', '/v1/slow', '--timeout-ms', '500', '--json']),
        invoke(['cust/v1', '--request', JSON.stringify({timeoutMs: 500, request: {method: 'GET', path: '/v1/slow'}}), '--json']),
        invoke(['cust/v1', '--method', 'GET', '--path', '/v1/x', '--json'], {AIVAULT_DEV_RESOLVE: 'api.example.com=127.0.0.1:1'}),
      ])
      expectJsonError(flag, 1, 'upstream_timeout')
      expectJsonError(envelope, 1, 'upstream_timeout')
      expectJsonError(closed, 1, 'upstream_unreachable')
      assert.ok(Date.now() - started < 4500, 'the timeout did not cut the wait short')
    })
  })

  it('plain-text responses pass through the raw invoke unchanged', async () => {
    up.route('GET', '/v1/text', text(200, 'line one\nline two\n'))
    const result = await invoke(['cust/v1', '--method', 'GET', '--path', '/v1/text'])
    assert.equal(result.status, 0)
    assert.equal(result.stdout, 'line one\nline two\n')
  })
})

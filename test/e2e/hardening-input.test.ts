/**
 * Input limits (issue 12 item 24; README "Limits") and the exact output of `markdown
 * --namespace` (item 27; SPEC §15 Markdown), through the built CLI: names are capped, an alias
 * is never the secret's own name, numeric flags are bounded integers, `--ttl` has a maximum,
 * a token for a missing credential is refused, and a value that is not UTF-8 text is refused
 * where it enters (never stored to be mangled later).
 */
import * as assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as path from 'node:path'

import type {CliResult} from './fixture'
import {TempVault, expectHumanError, expectJsonError, killDaemonsUnder, parseJson} from './fixture'
import {json, resolveEnv, startUpstream, type Upstream} from './upstream'

const KEY = 'sk-hardening-input-SECRET-0123456789'

/** A usage error (exit 2) whose message names `flag` and, when given, the range. */
function expectUsage(result: CliResult, flag: string, range?: string): string {
  const message = expectHumanError(result, 2)
  assert.ok(message.includes(flag), `the message names ${flag}: ${message}`)
  if (range) assert.ok(message.includes(range), `the message names the range ${range}: ${message}`)
  return message
}

const filesIn = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir) : [])

describe('e2e hardening: input limits', function () {
  this.timeout(120_000)
  let tv: TempVault
  let up: Upstream
  let env: Record<string, string>
  let openaiSecretId: string

  before(async () => {
    up = await startUpstream()
    env = {...resolveEnv(up), AIVAULTD_DISABLE: '1'}
    tv = new TempVault()
    tv.ok(['init', '--testing'])
    openaiSecretId = tv.createSecret('OPENAI_API_KEY', KEY)
  })

  after(async () => {
    await up?.close()
    tv?.dispose()
  })

  describe('numeric flags are bounded integers', () => {
    it('capability policy set: out of range or not an integer is exit 2 naming the flag and the range; nothing is stored', async () => {
      const set = (flag: string, value: string) => tv.runAsync(['capability', 'policy', 'set', '--capability', 'openai/models', flag, value])
      const results = await Promise.all([
        set('--max-request-body-bytes', '99999999999999999999'),
        set('--max-response-body-bytes', '1099511627777'),
        set('--rate-limit-per-minute', '1.5'),
        set('--rate-limit-per-minute', '-1'),
        set('--rate-limit-per-minute', 'ten'),
      ])
      expectUsage(results[0], '--max-request-body-bytes', 'from 0 to 1099511627776')
      expectUsage(results[1], '--max-response-body-bytes', 'from 0 to 1099511627776')
      for (const r of results.slice(2)) expectUsage(r, '--rate-limit-per-minute', 'from 0 to 1000000')
      assert.deepEqual(filesIn(path.join(tv.root, 'policies')), [], 'no policy was written')
      const largest = parseJson<any>(await tv.runAsync(['capability', 'policy', 'set', '--capability', 'openai/models', '--max-request-body-bytes', '1099511627776', '--json']))
      assert.equal(largest.maxRequestBodyBytes, 1_099_511_627_776)
    })

    it('audit --limit and --before-ts-ms, serve --port and --workers, invoke --timeout-ms, env --port', async () => {
      const results = await Promise.all([
        tv.runAsync(['audit', '--limit', '0']),
        tv.runAsync(['audit', '--limit', '99999999999999999999']),
        tv.runAsync(['audit', '--before-ts-ms', '99999999999999999999']),
        tv.runAsync(['serve', '--port', '65536']),
        tv.runAsync(['serve', '--workers', '0']),
        tv.runAsync(['invoke', 'openai/models', '--timeout-ms', '600001'], {env}),
        tv.runAsync(['env', '--serve', '--port', '70000']),
      ])
      expectUsage(results[0], '--limit', 'from 1 to 1000000')
      expectUsage(results[1], '--limit', 'from 1 to 1000000')
      expectUsage(results[2], '--before-ts-ms', 'from 0 to 8640000000000000')
      expectUsage(results[3], '--port', 'from 0 to 65535')
      expectUsage(results[4], '--workers', 'from 1 to 64')
      expectUsage(results[5], '--timeout-ms', 'from 1 to 600000')
      expectUsage(results[6], '--port', 'from 1 to 65535')
    })

    it('through a running aivaultd (the thin client) the same values are refused the same way', async () => {
      const daemonEnv = {...env, AIVAULTD_DISABLE: '0', AIVAULTD_AUTOSTART: '1', AIVAULTD_IDLE_EXIT_MS: '60000'}
      const started = await tv.runAsync(['daemon', 'restart'], {env: daemonEnv})
      assert.equal(started.status, 0, started.stderr)
      try {
        const sent = up.requests.length
        const [timeout, workspace, ok] = await Promise.all([
          tv.runAsync(['invoke', 'openai/models', '--path', '/v1/models/t', '--timeout-ms', '600001'], {env: daemonEnv}),
          tv.runAsync(['invoke', 'openai/models', '--path', '/v1/models/w', '--workspace-id', 'w'.repeat(65)], {env: daemonEnv}),
          tv.runAsync(['invoke', 'openai/models', '--path', '/v1/models/ok', '--timeout-ms', '600000'], {env: daemonEnv}),
        ])
        expectUsage(timeout, '--timeout-ms', 'from 1 to 600000')
        expectUsage(workspace, '--workspace-id', '64')
        assert.equal(ok.status, 0, ok.stderr)
        assert.equal(up.requests.length, sent + 1)
      } finally {
        await tv.runAsync(['daemon', 'stop'], {env: daemonEnv})
        await killDaemonsUnder(tv.base)
      }
    })
  })

  describe('--ttl has a maximum (30d) and a bad value is exit 2', () => {
    it('token mint and unlock', async () => {
      const results = await Promise.all([
        tv.runAsync(['token', 'mint', '--capability', 'openai/models', '--ttl', '31d']),
        tv.runAsync(['token', 'mint', '--capability', 'openai/models', '--ttl', '99999999999999999999d']),
        tv.runAsync(['token', 'mint', '--capability', 'openai/models', '--ttl', '1.5h']),
        tv.runAsync(['unlock', '--ttl', '721h', '--passphrase', 'x']),
      ])
      for (const r of results) {
        expectUsage(r, '--ttl')
        assert.match(r.stderr, /30d/, 'the message or hint names the maximum')
      }
      const minted = parseJson<any>(await tv.runAsync(['token', 'mint', '--capability', 'openai/models', '--ttl', '30d', '--json']))
      const days = (Date.parse(minted.expiresAt) - Date.now()) / 86_400_000
      assert.ok(days > 29.9 && days <= 30, `a 30d token expires in 30 days: ${minted.expiresAt}`)
    })
  })

  describe('token mint --credential', () => {
    it('a credential that does not exist is refused (credential_not_found, exit 1) and nothing is minted', async () => {
      const tokensDir = path.join(tv.root, 'run', 'tokens')
      const before = filesIn(tokensDir).length
      const result = await tv.runAsync(['token', 'mint', '--capability', 'openai/models', '--credential', 'nope', '--json'])
      expectJsonError(result, 1, 'credential_not_found')
      assert.equal(filesIn(tokensDir).length, before)
      const ok = await tv.runAsync(['token', 'mint', '--capability', 'openai/models', '--credential', 'openai', '--json'])
      assert.equal(ok.status, 0, ok.stdout)
    })
  })

  describe('names are capped', () => {
    it('secret names and aliases: 256 characters; longer is exit 2; an alias may not repeat the name', async () => {
      const [long, longAlias, self, longest] = await Promise.all([
        tv.runAsync(['secrets', 'create', '--name', 'N'.repeat(257), '--value', 'v']),
        tv.runAsync(['secrets', 'create', '--name', 'SHORT_ONE', '--alias', 'A'.repeat(257), '--value', 'v']),
        tv.runAsync(['secrets', 'create', '--name', 'SELF', '--alias', 'SELF', '--value', 'v']),
        tv.runAsync(['secrets', 'create', '--name', 'L'.repeat(256), '--value', 'v', '--json']),
      ])
      expectUsage(long, '--name', '256')
      expectUsage(longAlias, '--alias', '256')
      expectUsage(self, '--alias')
      assert.equal(longest.status, 0, longest.stdout)
      assert.deepEqual(parseJson<any>(await tv.runAsync(['secrets', 'list', '--json'])).secrets.map((s: any) => s.name).sort(), ['L'.repeat(256), 'OPENAI_API_KEY'])
    })

    it('secrets update: an alias equal to the secret\'s own name is refused (exit 1) and the record is unchanged', async () => {
      const id = tv.createSecret('UPDATED_ONE', 'v')
      const file = path.join(tv.root, 'secrets', `${id}.yaml`)
      const bytes = fs.readFileSync(file)
      expectJsonError(await tv.runAsync(['secrets', 'update', '--id', id, '--alias', 'UPDATED_ONE', '--json']), 1, 'invalid_request')
      expectJsonError(await tv.runAsync(['secrets', 'update', '--id', id, '--name', 'RENAMED', '--alias', 'RENAMED', '--json']), 1, 'invalid_request')
      assert.deepEqual(fs.readFileSync(file), bytes)
    })

    it('credential, capability, workspace, group, consumer and provider ids have their caps', async () => {
      const ref = `vault:secret:${openaiSecretId}`
      const results = await Promise.all([
        tv.runAsync(['credential', 'create', 'c'.repeat(201), '--provider', 'openai', '--secret-ref', ref]),
        // Short enough in characters, too long as a file name: every ":" takes three bytes.
        tv.runAsync(['credential', 'create', `c${':'.repeat(100)}`, '--provider', 'openai', '--secret-ref', ref]),
        tv.runAsync(['credential', 'create', 'ok-id', '--provider', 'p'.repeat(65), '--secret-ref', ref, '--auth', 'header', '--host', 'api.example.com']),
        tv.runAsync(['credential', 'create', 'ok-id', '--provider', 'openai', '--secret-ref', ref, '--workspace-id', 'w'.repeat(65)]),
        tv.runAsync(['capability', 'create', `x/${'y'.repeat(199)}`, '--provider', 'openai', '--method', 'GET', '--path', '/v1']),
        tv.runAsync(['capability', 'bind', '--capability', 'openai/models', '--credential', 'openai', '--consumer', 'c'.repeat(257)]),
        tv.runAsync(['capability', 'bind', '--capability', 'openai/models', '--credential', 'openai', '--workspace-id', 'w', '--group-id', 'g'.repeat(65)]),
        tv.runAsync(['token', 'mint', '--capability', 'openai/models', '--consumer', 'c'.repeat(257)]),
        tv.runAsync(['secrets', 'create', '--name', 'SCOPED', '--value', 'v', '--scope', 'workspace', '--workspace-id', 'w'.repeat(65)]),
        tv.runAsync(['secrets', 'attach-group', '--id', openaiSecretId, '--workspace-id', 'w', '--group-id', 'g'.repeat(65)]),
      ])
      const flags = ['credential id', 'credential id', '--provider', '--workspace-id', 'capability id', '--consumer', '--group-id', '--consumer', '--workspace-id', '--group-id']
      for (const [i, r] of results.entries()) expectUsage(r, flags[i])
      assert.deepEqual(filesIn(path.join(tv.root, 'credentials')), ['openai.yaml'], 'no credential was written')
      assert.deepEqual(filesIn(path.join(tv.root, 'bindings')), [], 'no binding was written')
    })

    it('secrets import skips an over-long name with a reason', async () => {
      const out = parseJson<any>(await tv.runAsync(['secrets', 'import', '--entry', `${'I'.repeat(257)}=v`, '--entry', 'IMPORTED_OK=v', '--json']))
      assert.deepEqual(out.created, ['IMPORTED_OK'])
      assert.deepEqual(out.skipped, [{name: 'I'.repeat(257), reason: 'invalid secret name'}])
    })
  })

  describe('values that are not UTF-8 text are refused where they enter', () => {
    const binary = Buffer.from([0x73, 0x6b, 0x2d, 0xff, 0xfe, 0x80, 0x41])

    it('secrets create and rotate with --value-file or --value-stdin: invalid_request with a hint, and nothing stored', async () => {
      const file = path.join(tv.base, 'binary.key')
      fs.writeFileSync(file, binary)
      const secretsBefore = filesIn(path.join(tv.root, 'secrets')).sort()
      const id = tv.createSecret('ROTATED_ONE', 'text-value')
      const record = fs.readFileSync(path.join(tv.root, 'secrets', `${id}.yaml`))
      const results = await Promise.all([
        tv.runAsync(['secrets', 'create', '--name', 'BINARY_FILE', '--value-file', file]),
        tv.runAsync(['secrets', 'create', '--name', 'BINARY_STDIN', '--value-stdin'], {input: binary}),
        tv.runAsync(['secrets', 'rotate', '--id', id, '--value-file', file]),
      ])
      for (const r of results) {
        const message = expectHumanError(r, 1)
        assert.match(message, /not UTF-8 text/)
        assert.match(r.stderr, /^Hint: .*(base64|hex)/m)
      }
      assert.deepEqual(filesIn(path.join(tv.root, 'secrets')).sort(), [...secretsBefore, `${id}.yaml`].sort(), 'no binary secret was stored')
      assert.deepEqual(fs.readFileSync(path.join(tv.root, 'secrets', `${id}.yaml`)), record, 'the rotate left the record as it was')
      // UTF-8 text beyond ASCII is fine.
      const accented = await tv.runAsync(['secrets', 'create', '--name', 'ACCENTED', '--value-stdin'], {input: 'clé-ü-日本'})
      assert.equal(accented.status, 0, accented.stderr)
    })

    it('secrets import --from-env-file holding invalid UTF-8 is refused as a whole', async () => {
      const file = path.join(tv.base, 'binary.env')
      fs.writeFileSync(file, Buffer.concat([Buffer.from('GOOD_ENTRY=fine\nBAD_ENTRY='), binary, Buffer.from('\n')]))
      const result = await tv.runAsync(['secrets', 'import', '--from-env-file', file])
      const message = expectHumanError(result, 1)
      assert.match(message, /--from-env-file .* is not UTF-8 text/)
      const names = parseJson<any>(await tv.runAsync(['secrets', 'list', '--json'])).secrets.map((s: any) => s.name)
      assert.ok(!names.includes('GOOD_ENTRY') && !names.includes('BAD_ENTRY'), names.join(', '))
    })
  })

  describe('markdown --namespace (SPEC §15)', () => {
    it('prints exactly <begin N>\\n...\\n</end N>\\n, and without --namespace the markdown and one newline', async () => {
      up.route('GET', '/v1/models/md', json(200, {user_id: 7, name: 'Ada'}), {host: 'api.openai.com'})
      const [namespaced, plain] = await Promise.all([
        tv.runAsync(['markdown', 'openai/models', '--path', '/v1/models/md', '--namespace', 'ada'], {env}),
        tv.runAsync(['markdown', 'openai/models', '--path', '/v1/models/md'], {env}),
      ])
      assert.equal(namespaced.status, 0, namespaced.stderr)
      assert.equal(namespaced.stdout, '<begin ada>\n# Name\n\nAda\n\n# User Id\n\n7\n</end ada>\n')
      assert.equal(plain.status, 0, plain.stderr)
      assert.equal(plain.stdout, '# Name\n\nAda\n\n# User Id\n\n7\n')
    })
  })
})

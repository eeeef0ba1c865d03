/**
 * Issue 16 items 9-11 through the built CLI: markdown reports a non-2xx answer (exit 1, or 22
 * with --fail), `token revoke` takes the token itself and never echoes one, `token mint` warns
 * about capabilities without a credential, `-H 'Name: value'` works like NAME=VALUE, and
 * `--body` defaults to POST when a capability allows several methods.
 */
import * as assert from 'node:assert/strict'

import {expectHumanError, expectJsonError, parseJson, TempVault} from './fixture'
import {echo, json, resolveEnv, startUpstream, text, type Upstream} from './upstream'

describe('e2e: invoke, markdown and token commands say what happened (issue 16 items 9-11)', function () {
  this.timeout(120_000)
  let up: Upstream
  let tv: TempVault
  let env: Record<string, string>

  before(async () => {
    up = await startUpstream()
    env = resolveEnv(up)
    tv = new TempVault()
    tv.ok(['init', '--testing'])
    tv.createSecret('OPENAI_API_KEY', 'sk-messages-e2e-SECRET-0000')
    up.route('GET', '/v1/models/missing', json(404, {error: {message: 'no such model'}}))
    up.route('GET', '/v1/models/plain-error', text(503, 'try later'))
    up.route('GET', '/v1/models/known', json(200, {id: 'm1'}))
    up.route('*', '/v1/chat/completions', echo())
  })

  after(async () => {
    await up?.close()
    tv?.dispose()
  })

  it('markdown on a non-2xx answer renders the body, reports the status on stderr and exits 1 (22 with --fail)', async () => {
    const run = (args: string[]) => tv.runAsync(['md', 'openai/models', '--path', ...args], {env})
    const [missing, failing, asJson, plain, ok] = await Promise.all([
      run(['/v1/models/missing']),
      run(['/v1/models/missing', '--fail']),
      run(['/v1/models/missing', '--json']),
      run(['/v1/models/plain-error', '--fail']),
      run(['/v1/models/known']),
    ])
    assert.equal(missing.status, 1, missing.stderr)
    assert.match(missing.stdout, /^# Error\n/)
    assert.match(missing.stdout, /no such model/)
    assert.equal(missing.stderr, 'Error: openai/models answered HTTP 404; the markdown above is its error body\n')
    assert.equal(failing.status, 22)
    assert.equal(failing.stdout, missing.stdout)
    assert.equal(asJson.status, 1)
    assert.equal(parseJson(asJson).status, 404)
    assert.match(expectHumanError(plain, 22), /^openai\/models answered HTTP 503, with a body that is not JSON$/)
    assert.equal(ok.status, 0, ok.stderr)
    assert.equal(ok.stderr, '')
  })

  it("-H 'Name: value' (curl style) sends the same header as NAME=VALUE", async () => {
    const curl = await tv.runAsync(['invoke', 'openai/chat-completions', '-X', 'POST', '-H', 'X-Trace:  a=b:c', '-H', 'x-other=d: e', '--body', '{}'], {env})
    assert.equal(curl.status, 0, curl.stderr)
    const seen = up.last()?.headers ?? {}
    assert.equal(seen['x-trace'], 'a=b:c')
    assert.equal(seen['x-other'], 'd: e')
    const bad = await tv.runAsync(['invoke', 'openai/chat-completions', '-H', ': nothing'], {env})
    assert.match(expectHumanError(bad, 2), /--header number 1 is not NAME=VALUE or "Name: value"/)
  })

  it('--body without --method is POST on a capability that allows several methods including POST', async () => {
    const posted = await tv.runAsync(['invoke', 'openai/chat-completions', '--body', '{"x":1}', '--json'], {env})
    assert.equal(posted.status, 0, posted.stdout + posted.stderr)
    assert.equal(parseJson(posted).planned.method, 'POST')
    assert.equal(up.last()?.method, 'POST')
    // Without a body several methods still need --method.
    const noBody = await tv.runAsync(['invoke', 'openai/chat-completions'], {env})
    assert.match(expectHumanError(noBody, 1), /allows GET, POST, DELETE: pass --method/)
  })

  it('token revoke takes the token itself or its id, and never echoes a token in an error', () => {
    const minted = tv.json(['token', 'mint', '--capability', 'openai/models'])
    assert.match(minted.token, /^avp_/)
    const byToken = tv.json(['token', 'revoke', minted.token])
    assert.deepEqual(byToken, {id: minted.id, revoked: true})
    const listed = tv.json(['token', 'list']).tokens.find((t: {id: string}) => t.id === minted.id)
    assert.equal(listed.revoked, true)

    const other = tv.json(['token', 'mint', '--capability', 'openai/models'])
    assert.match(tv.ok(['token', 'revoke', other.id]), new RegExp(`^Token ${other.id} revoked\\.\\n$`))

    const unknownToken = 'avp_unknownTokenValue-0123456789abcdef'
    const missing = tv.run(['token', 'revoke', unknownToken])
    assert.match(expectHumanError(missing, 1), /^no stored token matches the token given$/)
    assert.ok(!missing.stderr.includes(unknownToken))
    const json = expectJsonError(tv.run(['token', 'revoke', unknownToken, '--json']), 1, 'not_found')
    assert.ok(!json.message.includes(unknownToken))
    // A pasted token without its prefix is not echoed either; a real id form is.
    const bare = tv.run(['token', 'revoke', 'unknownTokenValue-0123456789abcdef'])
    assert.match(expectHumanError(bare, 1), /^no token has that id$/)
    assert.match(expectHumanError(tv.run(['token', 'revoke', 'abcdef012345']), 1), /^no token abcdef012345$/)
  })

  it('token mint warns on stderr about a capability no credential serves, and still mints', () => {
    const result = tv.run(['token', 'mint', '--capability', 'openai/models', '--capability', 'github/users'])
    assert.equal(result.status, 0, result.stderr)
    assert.match(result.stdout, /^avp_/)
    assert.match(result.stderr, /^Warning: github\/users has no credential yet, so calls with this token fail until one exists: aivault secrets create --name GITHUB_TOKEN --value-stdin\n$/)
    assert.doesNotMatch(result.stderr, /openai\/models/)
    const quiet = tv.run(['token', 'mint', '--capability', 'openai/models', '--json'])
    assert.equal(quiet.stderr, '')
    assert.ok(parseJson(quiet).token)
  })
})

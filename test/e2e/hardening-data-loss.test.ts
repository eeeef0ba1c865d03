/**
 * Losing data (issue 12 items 12 and 16): an OAuth token write-back never undoes an operator's
 * rotate or delete that happened while the token endpoint was slow (SPEC §15), and a bulk
 * operation killed part-way leaves every record it wrote with its audit event (SPEC §12).
 */
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as YAML from 'yaml'

import {auditEvents, CLI, parseJson, TempVault} from './fixture'
import type {Handler, OAuthTokenHandler, Upstream} from './upstream'
import {oauthToken, resolveEnv, startUpstream} from './upstream'

const CLIENT_ID = 'client-id-data-loss.apps.example'
const OLD = {clientId: CLIENT_ID, clientSecret: 'client-secret-OLD-data-loss-11', refreshToken: 'refresh-OLD-data-loss-22'}
const NEW = {clientId: CLIENT_ID, clientSecret: 'client-secret-NEW-data-loss-33', refreshToken: 'refresh-NEW-data-loss-44'}

/** A token endpoint whose first call waits until released; `arrived` settles when that call comes in. */
function gated(tokens: OAuthTokenHandler): {handler: Handler; arrived: Promise<void>; release: () => void} {
  let arrive!: () => void
  let release!: () => void
  const arrived = new Promise<void>((resolve) => (arrive = resolve))
  const gate = new Promise<void>((resolve) => (release = resolve))
  let first = true
  const handler: Handler = async (req, res, signal) => {
    if (first) {
      first = false
      arrive()
      await gate
    }
    return tokens(req, res, signal)
  }
  return {handler, arrived, release}
}

const recordFiles = (tv: TempVault): string[] => fs.readdirSync(path.join(tv.root, 'secrets')).filter((n) => /^[0-9a-f-]{36}\.yaml$/.test(n))

describe('e2e hardening: no data lost to slow or interrupted writers', function () {
  this.timeout(180_000)

  describe('OAuth token write-back during a slow refresh', () => {
    let up: Upstream
    let tv: TempVault
    let env: Record<string, string>

    before(async () => {
      up = await startUpstream()
      env = {...resolveEnv(up), AIVAULTD_DISABLE: '1'}
      tv = new TempVault()
      tv.ok(['init', '--testing'])
    })

    after(async () => {
      await up?.close()
      tv?.dispose()
    })

    /** A refresh_token credential `id` whose token endpoint is gated; returns the secret id. */
    function oauthCredential(id: string, handler: Handler): string {
      up.route('POST', `/${id}/token`, handler, {host: 'auth.example.com'})
      const secretId = tv.createSecret(`OAUTH_${id.toUpperCase().replace(/-/g, '_')}`, JSON.stringify(OLD))
      tv.ok(['credential', 'create', id, '--provider', id, '--secret-ref', `vault:secret:${secretId}`, '--auth', 'oauth2', '--grant-type', 'refresh_token',
        '--token-endpoint', `https://auth.example.com/${id}/token`, '--host', 'api.example.com', '--host', 'auth.example.com'])
      tv.ok(['capability', 'create', `${id}/cap`, '--credential', id, '--method', 'GET', '--path', '/v1', '--host', 'api.example.com'])
      return secretId
    }

    const invoke = (id: string) => tv.runAsync(['invoke', `${id}/cap`, '--method', 'GET', '--path', '/v1/me', '--json'], {env})
    const valueVersion = (secretId: string): number | undefined =>
      tv.json(['secrets', 'list']).secrets.find((s: {id: string}) => s.id === secretId)?.valueVersion

    it('a secrets rotate while the token call is in flight wins: the refreshed token does not overwrite it', async () => {
      const tokens = oauthToken({accessToken: (n) => `access-rotate-${n}-data-loss`, refreshToken: 'refresh-from-endpoint-data-loss-55'})
      const endpoint = gated(tokens)
      const secretId = oauthCredential('dl-rotate', endpoint.handler)
      const calling = invoke('dl-rotate')
      await endpoint.arrived
      const rotate = await tv.runAsync(['secrets', 'rotate', '--id', secretId, '--value-stdin', '--json'], {input: JSON.stringify(NEW)})
      assert.equal(rotate.status, 0, rotate.stdout + rotate.stderr)
      endpoint.release()
      const called = await calling
      assert.equal(called.status, 0, called.stdout + called.stderr)
      assert.equal(valueVersion(secretId), 2, 'the rotate was undone (valueVersion back to 1)')
      // The operator's value is what the next refresh uses: its client secret and refresh token.
      const next = await invoke('dl-rotate')
      assert.equal(next.status, 0, next.stdout + next.stderr)
      assert.equal(tokens.calls, 2, 'the rotated secret has no access token yet: one more token call')
      assert.equal(tokens.forms[1].client_secret, NEW.clientSecret)
      assert.equal(tokens.forms[1].refresh_token, NEW.refreshToken)
    })

    it('a secrets delete while the token call is in flight stays deleted (no orphan record comes back)', async () => {
      const tokens = oauthToken({accessToken: (n) => `access-delete-${n}-data-loss`})
      const endpoint = gated(tokens)
      const secretId = oauthCredential('dl-delete', endpoint.handler)
      const calling = invoke('dl-delete')
      await endpoint.arrived
      const removed = await tv.runAsync(['secrets', 'delete', '--id', secretId, '--json'])
      assert.equal(removed.status, 0, removed.stdout + removed.stderr)
      endpoint.release()
      await calling
      assert.equal(fs.existsSync(path.join(tv.root, 'secrets', `${secretId}.yaml`)), false, 'the write-back brought the deleted secret back')
      assert.equal(valueVersion(secretId), undefined)
    })

    it('with nothing changed meanwhile, the refreshed token is still written back', async () => {
      const tokens = oauthToken({accessToken: (n) => `access-plain-${n}-data-loss`})
      const endpoint = gated(tokens)
      const secretId = oauthCredential('dl-plain', endpoint.handler)
      const before = fs.readFileSync(path.join(tv.root, 'secrets', `${secretId}.yaml`))
      const calling = invoke('dl-plain')
      await endpoint.arrived
      endpoint.release()
      assert.equal((await calling).status, 0)
      assert.notDeepEqual(fs.readFileSync(path.join(tv.root, 'secrets', `${secretId}.yaml`)), before)
      assert.equal(valueVersion(secretId), 1)
      assert.equal((await invoke('dl-plain')).status, 0)
      assert.equal(tokens.calls, 1, 'the second call used the token written back')
    })
  })

  describe('bulk operations killed part-way', () => {
    let tv: TempVault

    beforeEach(() => {
      tv = new TempVault()
      tv.ok(['init'])
    })

    afterEach(() => tv?.dispose())

    /** Run the CLI and SIGKILL it as soon as `ready` says so, asked whenever a file in secrets/ changes. */
    function killAfterRecords(args: string[], ready: (changed: string) => boolean): Promise<NodeJS.Signals | null> {
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [CLI, ...args], {env: tv.env, cwd: tv.base, stdio: 'ignore'})
        const watcher = fs.watch(path.join(tv.root, 'secrets'), (_event, name) => {
          if (name && ready(String(name))) child.kill('SIGKILL')
        })
        child.on('error', reject)
        child.on('exit', (_code, signal) => {
          watcher.close()
          resolve(signal)
        })
      })
    }

    it('secrets import: every secret record on disk has its secret.create event', async () => {
      const entries = Array.from({length: 400}, (_, i) => `IMPORTED_${i}=value-${i}-${crypto.randomBytes(8).toString('hex')}`)
      const envFile = path.join(tv.base, 'many.env')
      fs.writeFileSync(envFile, entries.join('\n') + '\n')
      const signal = await killAfterRecords(['secrets', 'import', '--from-env-file', envFile], () => recordFiles(tv).length >= 5)
      assert.equal(signal, 'SIGKILL', 'the import finished before the kill landed')
      const records = recordFiles(tv)
      assert.ok(records.length > 0 && records.length < entries.length, `the kill landed part-way (${records.length} records)`)
      const logged = new Set(auditEvents(tv).filter((e) => e.kind === 'secret.create').map((e) => e.secretId))
      const missing = records.map((n) => n.slice(0, -'.yaml'.length)).filter((id) => !logged.has(id))
      assert.deepEqual(missing, [], `${missing.length} of ${records.length} secrets on disk have no secret.create event`)
    })

    it('rotate-master: every re-wrapped record on disk has its secret.rewrap event', async () => {
      const entries = Array.from({length: 200}, (_, i) => ['--entry', `ROTATED_${i}=value-${i}-${crypto.randomBytes(8).toString('hex')}`]).flat()
      const imported = parseJson(tv.run(['secrets', 'import', ...entries, '--json']))
      assert.equal(imported.created.length, 200)
      const oldKek = tv.json(['status']).kekId as string
      const dekOf = (name: string): string => YAML.parse(fs.readFileSync(path.join(tv.root, 'secrets', name), 'utf8')).sealed.dek.kekId
      // A record renamed into place under the new key: the rotation is re-wrapping.
      const rewrappedOne = (name: string): boolean => /^[0-9a-f-]{36}\.yaml$/.test(name) && fs.existsSync(path.join(tv.root, 'secrets', name)) && dekOf(name) !== oldKek
      const signal = await killAfterRecords(['rotate-master'], rewrappedOne)
      assert.equal(signal, 'SIGKILL', 'rotate-master finished before the kill landed')
      const rewrapped = recordFiles(tv).filter((n) => dekOf(n) !== oldKek).map((n) => n.slice(0, -'.yaml'.length))
      assert.ok(rewrapped.length > 0 && rewrapped.length < 200, `the kill landed mid re-wrap (${rewrapped.length} re-wrapped)`)
      const logged = new Set(auditEvents(tv).filter((e) => e.kind === 'secret.rewrap').map((e) => e.secretId))
      const missing = rewrapped.filter((id) => !logged.has(id))
      assert.deepEqual(missing, [], `${missing.length} of ${rewrapped.length} re-wrapped records have no secret.rewrap event`)
    })
  })
})

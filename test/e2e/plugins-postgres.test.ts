/**
 * The postgres plugin end to end (issue 14): linked into aivault, trusted, and called through
 * every entry point (CLI in-process, CLI through aivaultd, raw aivaultd frames, serve) against a
 * real PostgreSQL. The server refuses writes (READ ONLY transaction), results are capped, a slow
 * statement is cancelled, and the password never reaches the caller, not even in errors.
 */
import assert from 'node:assert/strict'
import * as path from 'node:path'

import {killDaemonsUnder, parseJson, REPO_ROOT, TempVault} from './fixture'
import {leakedSpellings, viaCli, viaFrames, viaServe, type Call, type Outcome} from './response-entry-points'
import {mint, startServe, type Served} from './serve-helpers'

interface PgFixture {
  url: string
  json: string
  stop(): Promise<void>
}
const {startFixture} = require('../../plugins/aivault-plugin-postgres/test/fixture') as {startFixture(): Promise<PgFixture>}

const PLUGIN = path.join(REPO_ROOT, 'plugins', 'aivault-plugin-postgres')

describe('e2e: the postgres plugin through aivault (every entry point)', function () {
  this.timeout(120_000)
  let pg: PgFixture
  let tv: TempVault
  let socket: string
  let served: Served
  let token: string
  const env: Record<string, string> = {}

  before(async () => {
    pg = await startFixture()
    tv = new TempVault()
    tv.env.AIVAULT_DATA_DIR = path.join(tv.base, 'data')
    tv.env.AIVAULTD_IDLE_EXIT_MS = '300000'
    tv.ok(['init'])
    const linked = tv.run(['plugins', 'link', PLUGIN])
    assert.equal(linked.status, 0, linked.stderr)
    assert.match(linked.stdout, /providers: postgres/)
    assert.match(linked.stdout, /plugins trust aivault-plugin-postgres/)
    const created = tv.json(['secrets', 'create', '--name', 'POSTGRES_URL', '--value-stdin'], {input: pg.url})
    assert.equal(created.credential.provider, 'postgres')
    assert.equal(created.capabilitiesEnabled, 6)
  })

  after(async () => {
    await served?.stop()
    if (tv) {
      await tv.runAsync(['daemon', 'stop'])
      await killDaemonsUnder(tv.base)
      tv.dispose()
    }
    await pg?.stop()
  })

  const noPassword = (o: Outcome) => {
    const password = decodeURIComponent(new URL(pg.url).password)
    assert.deepEqual(leakedSpellings(o.text, password), [], o.text)
    assert.ok(!o.text.includes(pg.url), o.text)
  }

  it('refuses to hand the secret to an untrusted plugin (plugin_untrusted)', async () => {
    const result = tv.run(['invoke', 'postgres/test-connection', '--json'])
    assert.equal(result.status, 1)
    const {error} = JSON.parse(result.stdout)
    assert.equal(error.code, 'plugin_untrusted')
    assert.match(error.hint, /aivault plugins trust aivault-plugin-postgres/)
    const listed = tv.json(['plugins', 'list'])
    assert.deepEqual(listed.plugins.map((p: {name: string; trust: {trusted: boolean}}) => [p.name, p.trust.trusted]), [['aivault-plugin-postgres', false]])
  })

  it('answers once trusted, with capability describe naming the plugin', async () => {
    tv.ok(['plugins', 'trust', 'aivault-plugin-postgres'])
    const [event] = tv.json(['audit', '--kind', 'plugin.trust']).events
    assert.equal(event.plugin, 'aivault-plugin-postgres')
    assert.match(event.digest, /^[0-9a-f]{64}$/)
    const described = tv.json(['capability', 'describe', 'postgres/query'])
    assert.equal(described.plugin, 'aivault-plugin-postgres')
    assert.equal(described.transport, 'plugin')
    const result = tv.json(['invoke', 'postgres/test-connection'])
    assert.equal(result.response.status, 200)
    assert.equal(result.response.json.readOnly, true)
    assert.equal(result.planned.url, 'plugin://postgres/connection')
  })

  describe('through every entry point', () => {
    before(async () => {
      const started = await tv.runAsync(['daemon', 'restart', '--json'])
      assert.equal(started.status, 0, started.stdout + started.stderr)
      socket = parseJson<{socket: string}>(started).socket
      served = await startServe(tv, env)
      token = (await mint(tv, ['postgres/query', 'postgres/list-tables'])).token
    })

    async function everywhere(call: Call): Promise<Array<[string, Outcome]>> {
      const cli = await Promise.all((['in-process', 'daemon'] as const).map(async (where) => [`cli ${where}`, await viaCli(tv, env, call, where)] as [string, Outcome]))
      return [...cli, ['frames', await viaFrames(socket, call)], ['serve', await viaServe(served, token, call)]]
    }
    const query = (sql: string, extra: Record<string, unknown> = {}): Call => ({capability: 'postgres/query', method: 'POST', path: '/query', body: JSON.stringify({sql, ...extra})})

    it('reads rows', async () => {
      for (const [where, o] of await everywhere(query('SELECT name FROM shop.items ORDER BY id LIMIT 2'))) {
        assert.equal(o.error, undefined, `${where}: ${o.text}`)
        assert.equal(JSON.parse(o.body).rows.length, 2, where)
        noPassword(o)
      }
    })

    for (const sql of ['DELETE FROM shop.items', 'DROP TABLE shop.items', "COPY (SELECT 1) TO PROGRAM 'touch /tmp/aivault-pg-e2e-copy'"]) {
      it(`the server refuses: ${sql.split(' ')[0]}`, async () => {
        for (const [where, o] of await everywhere(query(sql))) {
          const text = o.error ? o.error.message : o.body
          assert.match(text, /read-only transaction|must be superuser|permission denied|not allowed/i, `${where}: ${o.text}`)
          noPassword(o)
        }
        const still = await viaCli(tv, env, query('SELECT count(*)::int AS n FROM shop.items'), 'in-process')
        assert.ok(JSON.parse(still.body).rows[0][0] > 0)
      })
    }

    it('caps the rows it returns', async () => {
      for (const [where, o] of await everywhere(query('SELECT generate_series(1, 5000) AS n', {maxRows: 50}))) {
        const answer = JSON.parse(o.body)
        assert.equal(answer.rows.length, 50, where)
        assert.equal(answer.truncated, true, where)
      }
    })

    it('cancels a statement that runs too long', async () => {
      const started = Date.now()
      for (const [where, o] of await everywhere(query('SELECT pg_sleep(30)', {timeoutMs: 300}))) {
        const text = o.error ? o.error.message : o.body
        assert.match(text, /statement timeout|cancel/i, `${where}: ${o.text}`)
      }
      assert.ok(Date.now() - started < 25_000, 'four cancelled statements took as long as one sleep')
    })

    it('never shows the password when the connection fails (wrong password)', async () => {
      const wrong = new URL(pg.url)
      const wrongPassword = `${decodeURIComponent(wrong.password)}-wrong`
      wrong.password = encodeURIComponent(wrongPassword)
      const id = tv.json(['secrets', 'list']).secrets.find((s: {name: string}) => s.name === 'POSTGRES_URL').id
      tv.ok(['secrets', 'rotate', '--id', id, '--value-stdin'], {input: wrong.href})
      try {
        for (const [where, o] of await everywhere(query('SELECT 1'))) {
          assert.ok(o.error || JSON.parse(o.body).error, `${where}: ${o.text}`)
          assert.deepEqual(leakedSpellings(o.text, wrongPassword), [], `${where}: ${o.text}`)
          noPassword(o)
        }
      } finally {
        tv.ok(['secrets', 'rotate', '--id', id, '--value-stdin'], {input: pg.url})
      }
    })
  })
})

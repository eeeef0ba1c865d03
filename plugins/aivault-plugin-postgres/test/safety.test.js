'use strict'
/**
 * The plugin's promises against a real PostgreSQL: the server refuses writes, long statements
 * are cancelled, an abort cancels and disconnects, names from paths cannot inject SQL, the
 * password never shows, and only the secret chooses the server.
 */
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const {escapeIdentifier} = require('pg')
const {freePort} = require('./cluster')
const {startFixture, invoke, waitFor, AGENT_PASSWORD, ODD_SCHEMA, ODD_TABLE} = require('./fixture')

describe('aivault-plugin-postgres safety', () => {
  /** @type {import('./fixture').Fixture} */
  let fx
  before(async () => {
    fx = await startFixture()
  })
  after(async () => {
    await fx?.stop()
  })
  afterEach(async () => {
    await fx.waitNoSessions()
  })

  /** @param {string} sql @param {Record<string, unknown>} [extra] @param {string} [secret] */
  const query = (sql, extra = {}, secret = fx.url) => invoke('postgres/query', {secret, method: 'POST', path: '/query', body: {sql, ...extra}})
  /** @param {string} sqlState @param {RegExp} message */
  const refused = (sqlState, message) => (/** @type {any} */ result) => {
    assert.equal(result.status, 400, JSON.stringify(result))
    assert.equal(result.json.error.code, 'sql_error')
    assert.equal(result.json.error.sqlState, sqlState, result.json.error.message)
    assert.match(result.json.error.message, message)
  }
  const intact = async () => {
    assert.deepEqual(await fx.adminQuery('SELECT (SELECT count(*)::int FROM shop.items) AS items, (SELECT count(*)::int FROM shop.victim) AS victim'), [
      {items: 250, victim: 1},
    ])
  }

  describe('read-only', () => {
    it('the server refuses writes and DDL inside the READ ONLY transaction', async () => {
      const readOnly = refused('25006', /^cannot execute .+ in a read-only transaction$/)
      readOnly(await query('DELETE FROM shop.items'))
      readOnly(await query("UPDATE shop.victim SET x = 2"))
      readOnly(await query("INSERT INTO shop.victim VALUES (2)"))
      readOnly(await query('TRUNCATE shop.victim'))
      readOnly(await query('DROP TABLE shop.victim'))
      readOnly(await query('CREATE TABLE shop.new (x int)'))
      readOnly(await query("SELECT nextval('shop.counter')"))
      readOnly(await query('DO $$ BEGIN DELETE FROM shop.victim; END $$'))
      assert.equal((await query('DELETE FROM shop.items')).json.error.message, 'cannot execute DELETE in a read-only transaction')
      assert.equal((await query('DROP TABLE shop.victim')).json.error.message, 'cannot execute DROP TABLE in a read-only transaction')
      await intact()
    })

    it('COPY ... TO PROGRAM is refused by the server and runs nothing', async () => {
      const marker = path.join(fx.cluster.dir, 'copy-ran')
      refused('42501', /external program/)(await query("COPY (select 1) TO PROGRAM 'true'"))
      refused('42501', /external program/)(await query(`COPY (select 1) TO PROGRAM 'touch ${marker}'`))
      assert.equal(fs.existsSync(marker), false)
    })

    it('the transaction cannot be switched to read-write, nor given a second statement', async () => {
      refused('25001', /read-write mode must be set before any query/)(await query('SET TRANSACTION READ WRITE'))
      refused('25001', /read-write mode must be set before any query/)(await query("SELECT set_config('transaction_read_only', 'off', true)"))
      refused('42601', /cannot insert multiple commands/)(await query('SET TRANSACTION READ WRITE; DELETE FROM shop.victim'))
      refused('42601', /cannot insert multiple commands/)(await query('COMMIT; DELETE FROM shop.victim'))
      await intact()
    })

    it('refuses a superuser credential (a READ ONLY transaction does not stop it running programs)', async () => {
      const marker = path.join(fx.cluster.dir, 'superuser-ran')
      const secret = `postgres://admin:${encodeURIComponent(fx.cluster.adminPassword)}@127.0.0.1:${fx.cluster.port}/shopdb`
      await assert.rejects(query(`COPY (select 1) TO PROGRAM 'touch ${marker}'`, {}, secret), (error) => {
        assert.match(error.message, /^postgres: refusing role "admin": it is a superuser/)
        assert.ok(!error.message.includes(fx.cluster.adminPassword))
        return true
      })
      assert.equal(fs.existsSync(marker), false)
    })
  })

  describe('time limits and aborts', () => {
    it('cancels a statement that runs longer than timeoutMs', async () => {
      const started = Date.now()
      refused('57014', /^canceling statement due to statement timeout$/)(await query('SELECT pg_sleep(10)', {timeoutMs: 200}))
      assert.ok(Date.now() - started < 5000)
    })

    it("keeps the statement within the hook's own time limit", async () => {
      const started = Date.now()
      const result = await invoke('postgres/query', {secret: fx.url, method: 'POST', path: '/query', body: {sql: 'SELECT pg_sleep(10)'}, timeoutMs: 800})
      refused('57014', /statement timeout/)(result)
      assert.ok(Date.now() - started < 5000)
    })

    it('an abort cancels the running statement on the server and closes the connection', async () => {
      const controller = new AbortController()
      const started = Date.now()
      const running = query('SELECT pg_sleep(30) /* abort-me */', {timeoutMs: 60_000})
      const call = invoke('postgres/query', {
        secret: fx.url,
        method: 'POST',
        path: '/query',
        body: {sql: 'SELECT pg_sleep(30) /* abort-me-too */', timeoutMs: 60_000},
        signal: controller.signal,
        timeoutMs: 60_000,
      })
      const active = async (/** @type {string} */ marker) =>
        (await fx.adminQuery("SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1", [`%${marker}%`])).length > 0
      await waitFor(async () => (await active('abort-me-too')) && (await active('abort-me */')), 'the statements never started')
      controller.abort()
      await assert.rejects(call, {message: 'postgres: the request was aborted'})
      await waitFor(async () => !(await active('abort-me-too')), 'the aborted statement kept running')
      assert.ok(Date.now() - started < 8000)
      // The other session was not touched by the abort.
      assert.ok(await active('abort-me */'))
      await fx.adminQuery("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%abort-me */%' AND pid <> pg_backend_pid()")
      refused('57014', /canceling statement due to user request/)(await running)
    })

    it('an already aborted signal never connects', async () => {
      const controller = new AbortController()
      controller.abort()
      await assert.rejects(invoke('postgres/test-connection', {secret: fx.url, path: '/connection', signal: controller.signal}), {
        message: 'postgres: the request was aborted',
      })
    })
  })

  describe('names from the path', () => {
    it('injection attempts in schema and table names find nothing and change nothing', async () => {
      const attempts = [
        ['postgres/describe-table', `/tables/shop/${encodeURIComponent('items"; DROP TABLE shop.victim; --')}`],
        ['postgres/describe-table', `/tables/${encodeURIComponent("shop' OR '1'='1")}/items`],
        ['postgres/preview-table', `/tables/shop/${encodeURIComponent('victim" CASCADE; DELETE FROM shop.victim; --')}/rows`],
        ['postgres/preview-table', `/tables/${encodeURIComponent('shop".victim; --')}/items/rows`],
      ]
      for (const [capability, urlPath] of attempts) {
        const result = await invoke(capability, {secret: fx.url, path: urlPath})
        assert.equal(result.status, 404, urlPath)
        assert.equal(result.json.error.code, 'not_found')
      }
      const schemaAttempt = await invoke('postgres/list-tables', {secret: fx.url, path: '/tables', query: [['schema', "shop' OR '1'='1"]]})
      assert.equal(schemaAttempt.status, 404)
      await intact()
    })

    it('a table whose name is SQL is quoted, read and left alone', async () => {
      const evil = 'x"; DELETE FROM shop.victim; --'
      await fx.adminQuery(`CREATE TABLE shop.${escapeIdentifier(evil)} (v int); INSERT INTO shop.${escapeIdentifier(evil)} VALUES (7); GRANT SELECT ON shop.${escapeIdentifier(evil)} TO agent`)
      const result = await invoke('postgres/preview-table', {secret: fx.url, path: `/tables/shop/${encodeURIComponent(evil)}/rows`})
      assert.deepEqual([result.status, result.json.name, result.json.rows], [200, evil, [[7]]])
      const odd = await invoke('postgres/preview-table', {secret: fx.url, path: `/tables/${encodeURIComponent(ODD_SCHEMA)}/${encodeURIComponent(ODD_TABLE)}/rows`})
      assert.deepEqual(odd.json.rows, [[1], [2], [3]])
      await intact()
    })
  })

  describe('the password', () => {
    const wrong = `Wr0ng:p@ss/w%rd?#"'-${process.pid}`
    /** @param {unknown} text @param {string[]} needles */
    const assertClean = (text, needles) => {
      for (const needle of needles) assert.ok(!String(text).includes(needle), `leaked ${JSON.stringify(needle)} in ${String(text)}`)
    }
    /** @param {string} password @param {number} port */
    const forms = (password, port) => ({
      url: `postgres://agent:${encodeURIComponent(password)}@127.0.0.1:${port}/shopdb`,
      json: JSON.stringify({host: '127.0.0.1', port, database: 'shopdb', user: 'agent', password}),
    })

    it('never appears in the error of a wrong password (URL and JSON forms)', async () => {
      const {url, json} = forms(wrong, fx.cluster.port)
      for (const secret of [url, json]) {
        await assert.rejects(invoke('postgres/test-connection', {secret, path: '/connection'}), (error) => {
          assert.match(error.message, /^postgres: could not connect: password authentication failed for user "agent"$/)
          assertClean(error.stack, [wrong, encodeURIComponent(wrong), url, json])
          return true
        })
      }
    })

    it('never appears in the error of an unreachable port (URL and JSON forms)', async () => {
      const port = /** @type {number} */ (await freePort())
      const {url, json} = forms(AGENT_PASSWORD, port)
      for (const secret of [url, json]) {
        await assert.rejects(invoke('postgres/test-connection', {secret, path: '/connection'}), (error) => {
          assert.match(error.message, /^postgres: could not connect: connect ECONNREFUSED 127\.0\.0\.1:\d+$/)
          assertClean(error.stack, [AGENT_PASSWORD, encodeURIComponent(AGENT_PASSWORD), url, json])
          return true
        })
      }
    })

    it('never appears in an invalid secret error, a SQL error or a row', async () => {
      const broken = [
        [`postgres://agent:${encodeURIComponent(AGENT_PASSWORD)}@127.0.0.1:${fx.cluster.port}`, 'database is required'],
        [`postgres://agent:${encodeURIComponent(AGENT_PASSWORD)}@/shopdb`, 'expected postgres://user:password@host:port/database or a JSON object'],
        [JSON.stringify({host: '127.0.0.1', user: 'agent', password: AGENT_PASSWORD}), 'database is required'],
      ]
      for (const [secret, why] of broken) {
        await assert.rejects(invoke('postgres/test-connection', {secret, path: '/connection'}), {
          message: `postgres: the credential's secret POSTGRES_URL is invalid: ${why}`,
        })
      }
      const needles = [AGENT_PASSWORD, encodeURIComponent(AGENT_PASSWORD), fx.url]
      const sqlError = await query('SELECT $1::int', {params: [AGENT_PASSWORD]})
      assert.equal(sqlError.json.error.message, 'invalid input syntax for type integer: "[REDACTED]"')
      const echoed = await query('SELECT $1::text AS p, $2::text AS u', {params: [AGENT_PASSWORD, fx.url]})
      assert.deepEqual(echoed.json.rows, [['[REDACTED]', '[REDACTED]']])
      assertClean(JSON.stringify([sqlError, echoed]), needles)
    })
  })

  describe('the server comes from the secret only', () => {
    it('refuses query parameters and body fields that would name another server', async () => {
      const viaQuery = await invoke('postgres/test-connection', {secret: fx.url, path: '/connection', query: [['host', '192.0.2.1'], ['port', '1']]})
      assert.deepEqual(viaQuery, {
        status: 400,
        json: {error: {code: 'invalid_request', message: `unknown query parameter "host"; the server is always the credential's`}},
      })
      for (const field of ['host', 'port', 'database', 'connectionString', 'user']) {
        const viaBody = await query('SELECT 1', {[field]: 'elsewhere'})
        assert.equal(viaBody.status, 400)
        assert.match(viaBody.json.error.message, new RegExp(`^unknown body field "${field}"`))
      }
    })

    it("ignores the credential's host labels, a Host header and pg's PG* environment variables", async () => {
      const saved = {...process.env}
      const pgpass = path.join(fx.cluster.dir, 'pgpass')
      fs.writeFileSync(pgpass, `*:*:*:agent:${AGENT_PASSWORD}\n`, {mode: 0o600})
      Object.assign(process.env, {
        PGHOST: '192.0.2.1',
        PGPORT: '1',
        PGDATABASE: 'postgres',
        PGUSER: 'admin',
        PGPASSWORD: AGENT_PASSWORD,
        PGPASSFILE: pgpass,
        PGOPTIONS: '-c default_transaction_read_only=off',
        PGSSLMODE: 'require',
        PGSSLNEGOTIATION: 'direct',
        PGAPPNAME: 'someone-else',
        PGCLIENT_ENCODING: 'LATIN1',
        PGCONNECT_TIMEOUT: '1',
        PGREPLICATION: 'database',
      })
      try {
        const result = await invoke('postgres/query', {
          secret: fx.url,
          method: 'POST',
          path: '/query',
          body: {
            sql: "SELECT current_database(), current_user, inet_server_port(), current_setting('application_name'), current_setting('default_transaction_read_only')",
          },
          hosts: ['192.0.2.1', 'evil.example'],
          headers: [{name: 'host', value: 'evil.example:5432'}],
        })
        assert.deepEqual(result.json.rows, [['shopdb', 'agent', fx.cluster.port, 'aivault-plugin-postgres', 'on']])
        // A secret without a password does not borrow PGPASSWORD or the password file.
        const noPassword = `postgres://agent@127.0.0.1:${fx.cluster.port}/shopdb`
        await assert.rejects(invoke('postgres/test-connection', {secret: noPassword, path: '/connection'}), (error) => {
          assert.match(error.message, /^postgres: could not connect: /)
          return true
        })
      } finally {
        for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key]
        Object.assign(process.env, saved)
      }
    })
  })
})

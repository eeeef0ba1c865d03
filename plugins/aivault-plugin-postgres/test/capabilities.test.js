'use strict'
/** Each postgres capability against a real PostgreSQL, in both secret forms. */
const assert = require('node:assert/strict')
const {startFixture, invoke, ODD_SCHEMA, ODD_TABLE} = require('./fixture')

describe('aivault-plugin-postgres capabilities', () => {
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

  /** @param {unknown} sql @param {Record<string, unknown>} [extra] */
  const query = (sql, extra = {}) => invoke('postgres/query', {secret: fx.url, method: 'POST', path: '/query', body: {sql, ...extra}})

  it('test-connection connects with the URL form and the JSON form, read-only', async () => {
    for (const secret of [fx.url, fx.json]) {
      const result = await invoke('postgres/test-connection', {secret, path: '/connection'})
      assert.equal(result.status, 200)
      assert.deepEqual({...result.json, serverVersion: undefined}, {ok: true, database: 'shopdb', user: 'agent', readOnly: true, serverVersion: undefined})
      assert.match(result.json.serverVersion, /^\d+/)
    }
  })

  it('list-schemas lists user schemas, and system ones on request', async () => {
    const user = await invoke('postgres/list-schemas', {secret: fx.url, path: '/schemas'})
    assert.equal(user.status, 200)
    const names = user.json.schemas.map((s) => s.name)
    assert.deepEqual(names, [ODD_SCHEMA, 'public', 'shop'])
    assert.deepEqual(user.json.schemas.find((s) => s.name === 'shop'), {name: 'shop', owner: 'admin', usable: true})
    const all = await invoke('postgres/list-schemas', {secret: fx.url, path: '/schemas', query: [['system', 'true']]})
    assert.ok(all.json.schemas.some((s) => s.name === 'pg_catalog'))
    const bad = await invoke('postgres/list-schemas', {secret: fx.url, path: '/schemas', query: [['system', 'yes']]})
    assert.deepEqual(bad, {status: 400, json: {error: {code: 'invalid_request', message: 'system must be true or false'}}})
  })

  it('list-tables lists tables and views of one schema or all', async () => {
    const shop = await invoke('postgres/list-tables', {secret: fx.url, path: '/tables', query: [['schema', 'shop']]})
    assert.equal(shop.status, 200)
    assert.deepEqual(shop.json, {
      tables: [
        {schema: 'shop', name: 'cheap', kind: 'view', estimatedRows: null, readable: true},
        {schema: 'shop', name: 'items', kind: 'table', estimatedRows: 250, readable: true},
        {schema: 'shop', name: 'victim', kind: 'table', estimatedRows: 1, readable: true},
      ],
      truncated: false,
    })
    const all = await invoke('postgres/list-tables', {secret: fx.url, path: '/tables'})
    assert.deepEqual(
      all.json.tables.map((t) => `${t.schema}.${t.name}`),
      [`${ODD_SCHEMA}.${ODD_TABLE}`, 'shop.cheap', 'shop.items', 'shop.victim'],
    )
    const missing = await invoke('postgres/list-tables', {secret: fx.url, path: '/tables', query: [['schema', 'nope']]})
    assert.deepEqual(missing, {status: 404, json: {error: {code: 'not_found', message: 'no schema "nope"'}}})
  })

  it('describe-table shows columns, constraints, indexes and comments', async () => {
    const result = await invoke('postgres/describe-table', {secret: fx.url, path: '/tables/shop/items'})
    assert.equal(result.status, 200)
    const {columns, constraints, indexes, ...about} = result.json
    assert.deepEqual(about, {schema: 'shop', name: 'items', kind: 'table', comment: 'Things for sale', estimatedRows: 250})
    assert.deepEqual(
      columns.map((c) => [c.name, c.type, c.nullable]),
      [
        ['id', 'integer', false],
        ['name', 'text', false],
        ['price', 'numeric(10,2)', true],
        ['tags', 'text[]', true],
        ['added', 'date', true],
      ],
    )
    assert.equal(columns[2].comment, 'In euros')
    assert.equal(columns[4].default, "'2024-01-01'::date")
    // (PostgreSQL 18 also lists NOT NULL constraints.)
    assert.deepEqual(
      constraints.filter((c) => c.type !== 'not null').map((c) => [c.name, c.type, c.definition]),
      [
        ['items_name_key', 'unique', 'UNIQUE (name)'],
        ['items_pkey', 'primary key', 'PRIMARY KEY (id)'],
      ],
    )
    assert.equal(indexes.length, 2)
    assert.match(indexes[0].definition, /^CREATE UNIQUE INDEX items_name_key ON shop\.items USING btree \(name\)$/)
    const odd = await invoke('postgres/describe-table', {secret: fx.url, path: `/tables/${encodeURIComponent(ODD_SCHEMA)}/${encodeURIComponent(ODD_TABLE)}`})
    assert.equal(odd.status, 200)
    assert.deepEqual([odd.json.schema, odd.json.name, odd.json.columns[0].name], [ODD_SCHEMA, ODD_TABLE, 'x'])
    const missing = await invoke('postgres/describe-table', {secret: fx.url, path: '/tables/shop/nope'})
    assert.deepEqual(missing, {status: 404, json: {error: {code: 'not_found', message: 'no table or view "shop"."nope"'}}})
  })

  it('preview-table returns the first rows, capped by limit (default 100, at most 1000)', async () => {
    const five = await invoke('postgres/preview-table', {secret: fx.url, path: '/tables/shop/items/rows', query: [['limit', '5']]})
    assert.equal(five.status, 200)
    assert.deepEqual(five.json.columns, [
      {name: 'id', type: 'integer'},
      {name: 'name', type: 'text'},
      {name: 'price', type: 'numeric'},
      {name: 'tags', type: 'text[]'},
      {name: 'added', type: 'date'},
    ])
    assert.deepEqual(five.json.rows[0], [1, 'item 1', '1.50', '{t1}', '2024-01-01'])
    assert.equal(five.json.rowCount, 5)
    assert.equal(five.json.truncated, true)
    const byDefault = await invoke('postgres/preview-table', {secret: fx.url, path: '/tables/shop/items/rows'})
    assert.deepEqual([byDefault.json.rowCount, byDefault.json.truncated], [100, true])
    const whole = await invoke('postgres/preview-table', {secret: fx.url, path: '/tables/shop/items/rows', query: [['limit', '1000']]})
    assert.deepEqual([whole.json.rowCount, whole.json.truncated], [250, false])
    const view = await invoke('postgres/preview-table', {secret: fx.url, path: '/tables/shop/cheap/rows'})
    assert.deepEqual([view.json.rowCount, view.json.truncated], [6, false])
    for (const limit of ['0', '1001', '-1', '1e3', 'ten']) {
      const refused = await invoke('postgres/preview-table', {secret: fx.url, path: '/tables/shop/items/rows', query: [['limit', limit]]})
      assert.deepEqual(refused, {status: 400, json: {error: {code: 'invalid_request', message: 'limit must be an integer from 1 to 1000'}}}, limit)
    }
  })

  it('query runs one statement with bind parameters and returns typed columns', async () => {
    const result = await query('SELECT id, name, price FROM shop.items WHERE id BETWEEN $1 AND $2 ORDER BY id', {params: [3, 4]})
    assert.deepEqual(result, {
      status: 200,
      json: {
        columns: [
          {name: 'id', type: 'integer'},
          {name: 'name', type: 'text'},
          {name: 'price', type: 'numeric'},
        ],
        rows: [
          [3, 'item 3', '4.50'],
          [4, 'item 4', '6.00'],
        ],
        truncated: false,
        command: 'SELECT',
        rowCount: 2,
      },
    })
    const same = await query("SELECT 1 AS a, 2 AS a, 9007199254740993::int8 AS big, '\\x00ff'::bytea AS raw, '{\"k\": [1]}'::jsonb AS doc, true AS yes")
    assert.deepEqual(same.json.rows, [[1, 2, '9007199254740993', '\\x00ff', {k: [1]}, true]])
    const explain = await query('EXPLAIN SELECT * FROM shop.items')
    assert.equal(explain.status, 200)
    assert.match(explain.json.rows[0][0], /Seq Scan on items/)
  })

  it('query caps rows at maxRows (default 100, at most 1000) and says so', async () => {
    const byDefault = await query('SELECT g FROM generate_series(1, 100000) g')
    assert.deepEqual([byDefault.json.rowCount, byDefault.json.truncated, byDefault.json.rows.at(-1)], [100, true, [100]])
    const exact = await query('SELECT g FROM generate_series(1, 7) g', {maxRows: 7})
    assert.deepEqual([exact.json.rowCount, exact.json.truncated], [7, false])
    const most = await query('SELECT g FROM generate_series(1, 5000) g', {maxRows: 1000})
    assert.deepEqual([most.json.rowCount, most.json.truncated], [1000, true])
    const tooMany = await query('SELECT 1', {maxRows: 1001})
    assert.deepEqual(tooMany, {status: 400, json: {error: {code: 'invalid_request', message: '"maxRows" must be an integer from 1 to 1000'}}})
  })

  it('query returns server errors as 400 with the message and SQLSTATE', async () => {
    assert.deepEqual(await query('SELEC 1'), {status: 400, json: {error: {code: 'sql_error', message: 'syntax error at or near "SELEC"', sqlState: '42601'}}})
    assert.deepEqual(await query('SELECT * FROM shop.nope'), {
      status: 400,
      json: {error: {code: 'sql_error', message: 'relation "shop.nope" does not exist', sqlState: '42P01'}},
    })
  })

  it('refuses malformed requests before connecting', async () => {
    const cases = [
      ['postgres/query', {method: 'POST', path: '/query', body: 'not json'}, 400, 'the body must be JSON {"sql", "params"?, "maxRows"?, "timeoutMs"?}'],
      ['postgres/query', {method: 'POST', path: '/query', body: {sql: ' '}}, 400, '"sql" must be a non-empty string'],
      ['postgres/query', {method: 'POST', path: '/query', body: {sql: 'SELECT 1', params: {}}}, 400, '"params" must be an array of at most 1000 values'],
      ['postgres/query', {method: 'GET', path: '/query'}, 405, 'postgres/query serves POST /query with {"sql", "params"?, "maxRows"?, "timeoutMs"?}'],
      ['postgres/list-tables', {path: '/tables/shop/items'}, 404, 'postgres/list-tables serves GET /tables[?schema=<schema>]'],
      ['postgres/describe-table', {path: '/tables/shop/items/rows'}, 404, 'postgres/describe-table serves GET /tables/<schema>/<table>'],
      ['postgres/describe-table', {path: '/tables//items'}, 400, 'the path has an empty segment'],
      ['postgres/describe-table', {path: '/tables/shop/%E0%A4%A'}, 400, 'the path is not correctly percent-encoded'],
      ['postgres/describe-table', {path: '/tables/shop/a%00b'}, 400, 'the path must not contain NUL'],
      ['postgres/preview-table', {path: '/tables/shop/items/rows', query: [['limit', '1'], ['limit', '2']]}, 400, 'query parameter "limit" is given twice'],
    ]
    // A secret that names no reachable server: none of these may try to connect.
    const secret = 'postgres://agent:never-used-password@192.0.2.1:1/none'
    for (const [capability, request, status, message] of cases) {
      const code = status === 400 ? 'invalid_request' : status === 405 ? 'method_not_allowed' : 'not_found'
      assert.deepEqual(await invoke(String(capability), {secret, ...request}), {status, json: {error: {code, message}}}, JSON.stringify(request))
    }
  })
})

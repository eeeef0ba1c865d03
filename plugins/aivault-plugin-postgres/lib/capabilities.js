'use strict'
/**
 * What each capability does inside its read-only session. Names from the path and the query
 * reach SQL only as bind parameters, except in postgres/preview-table, where the table found
 * in the catalog is quoted with pg's identifier quoting.
 */
const {escapeIdentifier} = require('pg')
const {RequestError} = require('./session')
const {intIn, invalid, DEFAULT_MAX_ROWS, MAX_ROWS} = require('./requests')

const MAX_LISTED = 1000
const RELATION_KINDS = `CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' WHEN 'v' THEN 'view'
  WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table' END`
const NOT_SYSTEM_SCHEMA = `(n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%')`

/** @typedef {import('./session').Session} Session */
/** @typedef {import('./requests').ParsedRequest} ParsedRequest */

/** @param {Array<Record<string, unknown>>} rows @param {number} max */
function capped(rows, max) {
  return {items: rows.slice(0, max), truncated: rows.length > max}
}

/** @param {Session} db @param {string} schema @param {string} table */
async function findRelation(db, schema, table) {
  const rows = await db.rows(
    `SELECT c.oid, n.nspname AS schema, c.relname AS name, ${RELATION_KINDS} AS kind
     FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`,
    [schema, table],
  )
  if (rows.length === 0) throw new RequestError(404, 'not_found', `no table or view ${JSON.stringify(schema)}.${JSON.stringify(table)}`)
  return rows[0]
}

/** @type {Record<string, (db: Session, request: ParsedRequest) => Promise<unknown>>} */
const HANDLERS = {
  async 'postgres/test-connection'(db) {
    const [row] = await db.rows(
      `SELECT current_database() AS database, current_user AS user, current_setting('server_version') AS "serverVersion",
              current_setting('transaction_read_only') = 'on' AS "readOnly"`,
    )
    return {ok: true, ...row}
  },

  async 'postgres/list-schemas'(db, request) {
    const system = request.params.get('system') ?? 'false'
    if (system !== 'true' && system !== 'false') throw invalid('system must be true or false')
    const rows = await db.rows(
      `SELECT n.nspname AS name, pg_catalog.pg_get_userbyid(n.nspowner) AS owner,
              pg_catalog.has_schema_privilege(n.oid, 'USAGE') AS usable
       FROM pg_catalog.pg_namespace n WHERE $1::boolean OR ${NOT_SYSTEM_SCHEMA} ORDER BY 1 LIMIT ${MAX_LISTED + 1}`,
      [system === 'true'],
    )
    const {items, truncated} = capped(rows, MAX_LISTED)
    return {schemas: items, truncated}
  },

  async 'postgres/list-tables'(db, request) {
    const schema = request.params.get('schema') ?? null
    if (schema !== null) {
      const found = await db.rows('SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1', [schema])
      if (found.length === 0) throw new RequestError(404, 'not_found', `no schema ${JSON.stringify(schema)}`)
    }
    const rows = await db.rows(
      `SELECT n.nspname AS schema, c.relname AS name, ${RELATION_KINDS} AS kind,
              CASE WHEN c.reltuples >= 0 THEN c.reltuples END AS "estimatedRows",
              pg_catalog.has_table_privilege(c.oid, 'SELECT') AS readable
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
         AND CASE WHEN $1::text IS NULL THEN ${NOT_SYSTEM_SCHEMA} ELSE n.nspname = $1 END
       ORDER BY 1, 2 LIMIT ${MAX_LISTED + 1}`,
      [schema],
    )
    const {items, truncated} = capped(rows, MAX_LISTED)
    return {tables: items, truncated}
  },

  async 'postgres/describe-table'(db, request) {
    const [, schema, table] = request.segments
    const relation = await findRelation(db, schema, table)
    const columns = await db.rows(
      `SELECT a.attname AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable,
              pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS "default", pg_catalog.col_description(a.attrelid, a.attnum) AS comment
       FROM pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [relation.oid],
    )
    const constraints = await db.rows(
      `SELECT con.conname AS name,
              CASE con.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique' WHEN 'f' THEN 'foreign key'
                WHEN 'c' THEN 'check' WHEN 'x' THEN 'exclusion' WHEN 'n' THEN 'not null' ELSE con.contype::text END AS type,
              pg_catalog.pg_get_constraintdef(con.oid) AS definition
       FROM pg_catalog.pg_constraint con WHERE con.conrelid = $1 ORDER BY 1`,
      [relation.oid],
    )
    const indexes = await db.rows(
      `SELECT i.relname AS name, pg_catalog.pg_get_indexdef(x.indexrelid) AS definition
       FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = $1 ORDER BY 1`,
      [relation.oid],
    )
    const [about] = await db.rows(
      `SELECT pg_catalog.obj_description($1, 'pg_class') AS comment,
              (SELECT CASE WHEN reltuples >= 0 THEN reltuples END FROM pg_catalog.pg_class WHERE oid = $1) AS "estimatedRows"`,
      [relation.oid],
    )
    return {schema: relation.schema, name: relation.name, kind: relation.kind, ...about, columns, constraints, indexes}
  },

  async 'postgres/preview-table'(db, request) {
    const [, schema, table] = request.segments
    const limit = intIn(request.params.get('limit'), 'limit', 1, MAX_ROWS, DEFAULT_MAX_ROWS)
    const relation = await findRelation(db, schema, table)
    // The catalog's own spelling, quoted: the path never reaches SQL text unquoted.
    const name = `${escapeIdentifier(relation.schema)}.${escapeIdentifier(relation.name)}`
    const result = await db.capped(`SELECT * FROM ${name} LIMIT $1`, [limit + 1], limit)
    return {schema: relation.schema, name: relation.name, ...result, rowCount: result.rows.length}
  },

  async 'postgres/query'(db, request) {
    const body = /** @type {import('./requests').QueryBody} */ (request.body)
    const result = await db.capped(body.sql, body.params, body.maxRows)
    return {...result, rowCount: result.rows.length}
  },
}

module.exports = {HANDLERS}

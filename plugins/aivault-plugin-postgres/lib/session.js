'use strict'
/**
 * One read-only session per call: connect to the secret's server (and nothing else), run the
 * work inside `BEGIN READ ONLY` with statement, lock and idle timeouts, roll back, close.
 * An abort (the caller went away) or the deadline cancels the running statement on the
 * server and drops the connection.
 */
const net = require('node:net')
const pg = require('pg')

const APPLICATION_NAME = 'aivault-plugin-postgres'
const MAX_CONNECT_MS = 10_000
// Types returned as JSON values; every other type keeps the server's text (exact numerics,
// int8, dates and times as PostgreSQL prints them, bytea as \x hex).
const PARSED_TYPES = new Set([16, 21, 23, 26, 114, 700, 701, 3802])
const TYPES = {
  /** @param {number} oid @param {'text' | 'binary'} [format] */
  getTypeParser(oid, format) {
    return PARSED_TYPES.has(oid) ? pg.types.getTypeParser(oid, format) : (/** @type {string} */ value) => value
  },
}
// Roles a READ ONLY transaction does not contain: they can run programs and read or write the
// server's files (COPY ... TO PROGRAM is allowed in a read-only transaction).
const PRIVILEGE_CHECK = `SELECT current_setting('is_superuser') = 'on'
  OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
             WHERE r.rolname IN ('pg_execute_server_program', 'pg_write_server_files', 'pg_read_server_files')
               AND pg_catalog.pg_has_role(r.oid, 'USAGE')) AS privileged`

/** A refusal of the request itself: becomes `{status, json: {error: {code, message}}}`. */
class RequestError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

/** A query that stops after `maxRows` rows: the server's portal is never read further. */
class CappedQuery extends pg.Query {
  /** @param {string} text @param {unknown[]} values @param {number} maxRows */
  constructor(text, values, maxRows) {
    // One more row than allowed tells a cut result from one that fits exactly.
    super({text, values, rows: maxRows + 1, rowMode: 'array', queryMode: 'extended'})
    this.truncated = false
    /** @type {((error: Error | null, result?: unknown) => void) | undefined} */
    this.callback = undefined
  }

  /** @param {any} connection */
  handlePortalSuspended(connection) {
    this.truncated = true
    connection.sync()
  }

  /** @param {Error} error @param {any} connection */
  handleError(error, connection) {
    // The extended protocol waits for a Sync after a server error before the next statement.
    if (error instanceof pg.DatabaseError) connection.sync()
    super.handleError(error, connection)
  }
}

/**
 * @param {import('./secret').Target} target
 * @param {number} connectTimeoutMs
 */
function newClient(target, connectTimeoutMs) {
  // Every field explicit and non-empty: pg falls back to PGHOST, PGUSER, PGOPTIONS, PGSSLMODE...
  // for any field left empty, and to PGPASSWORD or ~/.pgpass unless the password is a function.
  const client = new pg.Client({
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    password: async () => target.password,
    ssl: target.sslmode === 'disable' ? false : {rejectUnauthorized: target.sslmode === 'verify-full', servername: net.isIP(target.host) ? undefined : target.host},
    sslnegotiation: 'postgres',
    application_name: APPLICATION_NAME,
    client_encoding: 'UTF8',
    options: '-c default_transaction_read_only=on',
    connectionTimeoutMillis: connectTimeoutMs,
    keepAlive: true,
    types: TYPES,
  })
  // PGREPLICATION has no explicit "off" in pg's config: clear what it may have set.
  client.connectionParameters.replication = undefined
  client.replication = undefined
  // Errors reach the awaiting call; an unhandled 'error' event would crash the broker.
  client.on('error', () => {})
  return client
}

/**
 * Asks the server to cancel the backend's running statement (the protocol's CancelRequest,
 * on a connection of its own). Best effort: resolves whatever happens, within a second.
 * @param {import('./secret').Target} target @param {number} processId @param {number} secretKey
 */
function cancelBackend(target, processId, secretKey) {
  return new Promise((resolve) => {
    const packet = Buffer.alloc(16)
    packet.writeInt32BE(16, 0)
    packet.writeInt32BE(80877102, 4)
    packet.writeInt32BE(processId, 8)
    packet.writeInt32BE(secretKey, 12)
    const socket = net.connect({host: target.host, port: target.port}, () => socket.end(packet))
    socket.setTimeout(1000, () => socket.destroy())
    socket.on('error', () => {})
    socket.on('close', () => resolve(undefined))
  })
}

/**
 * @typedef {object} Session
 * @property {(text: string, values?: unknown[]) => Promise<Array<Record<string, any>>>} rows
 *   a statement whose (small, catalog) result is returned whole
 * @property {(text: string, values: unknown[], maxRows: number) => Promise<CappedResult>} capped
 *   a statement read up to maxRows rows
 */

/**
 * @typedef {object} CappedResult
 * @property {Array<{name: string, type: string}>} columns
 * @property {unknown[][]} rows
 * @property {boolean} truncated
 * @property {string | null} command
 */

/** @param {pg.Client} client @returns {Session} */
function sessionOf(client) {
  return {
    rows: async (text, values) => (await client.query({text, values, queryMode: 'extended'})).rows,
    capped: async (text, values, maxRows) => {
      const query = new CappedQuery(text, values, maxRows)
      /** @type {any} */
      const result = await new Promise((resolve, reject) => {
        query.callback = (/** @type {Error | null} */ error, /** @type {any} */ res) => (error ? reject(error) : resolve(res))
        client.query(query)
      })
      /** @type {Array<{name: string, dataTypeID: number}>} */
      const fields = result.fields
      /** @type {Map<number, string>} */
      const typeNames = new Map()
      if (fields.length > 0) {
        const oids = [...new Set(fields.map((f) => f.dataTypeID))]
        const found = await client.query({
          text: 'SELECT oid::int AS oid, pg_catalog.format_type(oid, NULL) AS name FROM pg_catalog.pg_type WHERE oid = ANY($1::oid[])',
          values: [oids],
        })
        for (const row of found.rows) typeNames.set(row.oid, row.name)
      }
      return {
        columns: fields.map((f) => ({name: f.name, type: typeNames.get(f.dataTypeID) ?? String(f.dataTypeID)})),
        rows: result.rows.slice(0, maxRows),
        truncated: query.truncated || result.rows.length > maxRows,
        command: result.command ?? null,
      }
    },
  }
}

/**
 * Runs `work` in a read-only transaction on the secret's server and returns its JSON value
 * with status 200. Server errors while working (read-only violations, syntax errors, statement
 * timeouts) and RequestErrors become status 4xx results; a failure to connect, an abort or
 * the deadline throws an Error. Every message passes through `scrub`.
 *
 * @template T
 * @param {import('./secret').Target} target
 * @param {{signal: AbortSignal, timeoutMs: number, statementTimeoutMs: number, scrub: (text: string) => string}} options
 * @param {(session: Session) => Promise<T>} work
 * @returns {Promise<{status: number, json: T | {error: {code: string, message: string, sqlState?: string}}}>}
 */
async function runReadOnly(target, options, work) {
  const {signal, timeoutMs, scrub} = options
  const deadline = Date.now() + timeoutMs
  if (signal.aborted) throw new Error('postgres: the request was aborted')
  const client = newClient(target, Math.min(MAX_CONNECT_MS, timeoutMs))
  /** @type {string | null} */
  let stopped = null
  const stop = (/** @type {string} */ why) => {
    if (stopped) return
    stopped = why
    if (client.processID) void cancelBackend(target, client.processID, client.secretKey)
    client.connection.stream.destroy()
  }
  const onAbort = () => stop('postgres: the request was aborted')
  signal.addEventListener('abort', onAbort, {once: true})
  const timer = setTimeout(() => stop(`postgres: no answer within ${timeoutMs} ms`), timeoutMs)
  let connected = false
  try {
    await client.connect()
    connected = true
    // The server's own timeout is the one that fires first, so a slow statement gets its error.
    const statementMs = Math.max(1, Math.floor(Math.min(options.statementTimeoutMs, deadline - Date.now() - 100)))
    await client.query(
      `BEGIN READ ONLY; SET LOCAL statement_timeout = ${statementMs}; SET LOCAL lock_timeout = ${statementMs}; ` +
        `SET LOCAL idle_in_transaction_session_timeout = ${Math.max(1000, statementMs)}`,
    )
    // This first query also takes the transaction's snapshot, after which the transaction can
    // no longer be switched to read-write (`SET TRANSACTION READ WRITE` is refused).
    const {rows} = await client.query(PRIVILEGE_CHECK)
    if (rows[0].privileged) {
      throw new Error(
        `postgres: refusing role "${target.user}": it is a superuser or may run programs or reach the server's files, ` +
          'which a read-only transaction does not prevent; use a role with only the privileges agents need',
      )
    }
    const json = await work(sessionOf(client))
    await client.query('ROLLBACK')
    return {status: 200, json}
  } catch (error) {
    if (stopped) throw new Error(stopped)
    if (error instanceof RequestError) return {status: error.status, json: {error: {code: error.code, message: scrub(error.message)}}}
    if (connected && error instanceof pg.DatabaseError) {
      const {message, code} = /** @type {{message: string, code: string}} */ (error)
      const json = {error: {code: 'sql_error', message: scrub(message), sqlState: code}}
      return {status: 400, json}
    }
    const message = error instanceof Error ? error.message : String(error)
    const prefix = message.startsWith('postgres:') ? '' : connected ? 'postgres: the connection failed: ' : 'postgres: could not connect: '
    throw new Error(scrub(prefix + message))
  } finally {
    signal.removeEventListener('abort', onAbort)
    clearTimeout(timer)
    if (stopped) client.connection.stream.destroy()
    else await client.end().catch(() => {})
  }
}

module.exports = {runReadOnly, RequestError, APPLICATION_NAME}

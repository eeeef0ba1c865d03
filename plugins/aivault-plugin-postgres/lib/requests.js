'use strict'
/**
 * The request shapes of the postgres capabilities: each capability id serves exactly one
 * method and path form, with named query parameters and (for postgres/query) a JSON body.
 * Nothing in a request can name a server: unknown parameters and body fields are refused.
 */
const {RequestError} = require('./session')

const DEFAULT_MAX_ROWS = 100
const MAX_ROWS = 1000
const DEFAULT_STATEMENT_TIMEOUT_MS = 5000
const MAX_STATEMENT_TIMEOUT_MS = 600_000
const MAX_SQL_CHARS = 100_000
const MAX_PARAMS = 1000

/**
 * @typedef {object} Route
 * @property {string} method
 * @property {string} shape       the documented form, for messages
 * @property {(segments: string[]) => boolean} matches
 * @property {string[]} params    accepted query parameters
 */

/** @type {Record<string, Route>} */
const ROUTES = {
  'postgres/test-connection': {method: 'GET', shape: 'GET /connection', matches: (s) => s.length === 1 && s[0] === 'connection', params: []},
  'postgres/list-schemas': {method: 'GET', shape: 'GET /schemas[?system=true]', matches: (s) => s.length === 1 && s[0] === 'schemas', params: ['system']},
  'postgres/list-tables': {method: 'GET', shape: 'GET /tables[?schema=<schema>]', matches: (s) => s.length === 1 && s[0] === 'tables', params: ['schema']},
  'postgres/describe-table': {method: 'GET', shape: 'GET /tables/<schema>/<table>', matches: (s) => s.length === 3 && s[0] === 'tables', params: []},
  'postgres/preview-table': {
    method: 'GET',
    shape: 'GET /tables/<schema>/<table>/rows[?limit=N]',
    matches: (s) => s.length === 4 && s[0] === 'tables' && s[3] === 'rows',
    params: ['limit'],
  },
  'postgres/query': {method: 'POST', shape: 'POST /query with {"sql", "params"?, "maxRows"?, "timeoutMs"?}', matches: (s) => s.length === 1 && s[0] === 'query', params: []},
}

/** @param {string} message */
const invalid = (message) => new RequestError(400, 'invalid_request', message)

/** @param {string} path @returns {string[]} the decoded path segments */
function segmentsOf(path) {
  if (typeof path !== 'string' || !path.startsWith('/')) throw invalid('the path must start with "/"')
  const parts = path.slice(1).split('/')
  return parts.map((part) => {
    if (part === '') throw invalid('the path has an empty segment')
    let decoded
    try {
      decoded = decodeURIComponent(part)
    } catch {
      throw invalid('the path is not correctly percent-encoded')
    }
    if (decoded.includes('\0')) throw invalid('the path must not contain NUL')
    return decoded
  })
}

/** @param {Array<[string, string]>} query @param {string[]} accepted @returns {Map<string, string>} */
function paramsOf(query, accepted) {
  /** @type {Map<string, string>} */
  const params = new Map()
  for (const [name, value] of query ?? []) {
    if (!accepted.includes(name)) {
      throw invalid(`unknown query parameter "${name}"${accepted.length ? ` (accepted: ${accepted.join(', ')})` : ''}; the server is always the credential's`)
    }
    if (params.has(name)) throw invalid(`query parameter "${name}" is given twice`)
    params.set(name, value)
  }
  return params
}

/** @param {unknown} value @param {string} field @param {number} min @param {number} max @param {number} fallback */
function intIn(value, field, min, max, fallback) {
  if (value === undefined) return fallback
  const n = typeof value === 'string' && /^[0-9]{1,9}$/.test(value) ? Number(value) : value
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw invalid(`${field} must be an integer from ${min} to ${max}`)
  return n
}

/**
 * @typedef {object} QueryBody
 * @property {string} sql
 * @property {unknown[]} params
 * @property {number} maxRows
 * @property {number} timeoutMs
 */

/** @param {Buffer} body @returns {QueryBody} */
function queryBodyOf(body) {
  let parsed
  try {
    parsed = JSON.parse(Buffer.from(body ?? []).toString('utf8'))
  } catch {
    throw invalid('the body must be JSON {"sql", "params"?, "maxRows"?, "timeoutMs"?}')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid('the body must be a JSON object')
  for (const key of Object.keys(parsed)) {
    if (!['sql', 'params', 'maxRows', 'timeoutMs'].includes(key)) {
      throw invalid(`unknown body field "${key}" (accepted: sql, params, maxRows, timeoutMs); the server is always the credential's`)
    }
  }
  const {sql, params = []} = parsed
  if (typeof sql !== 'string' || sql.trim() === '') throw invalid('"sql" must be a non-empty string')
  if (sql.length > MAX_SQL_CHARS) throw invalid(`"sql" must be at most ${MAX_SQL_CHARS} characters`)
  if (!Array.isArray(params) || params.length > MAX_PARAMS) throw invalid(`"params" must be an array of at most ${MAX_PARAMS} values`)
  return {
    sql,
    params,
    maxRows: intIn(parsed.maxRows, '"maxRows"', 1, MAX_ROWS, DEFAULT_MAX_ROWS),
    timeoutMs: intIn(parsed.timeoutMs, '"timeoutMs"', 1, MAX_STATEMENT_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS),
  }
}

/**
 * @typedef {object} ParsedRequest
 * @property {string[]} segments
 * @property {Map<string, string>} params
 * @property {QueryBody | null} body   postgres/query only
 * @property {number} statementTimeoutMs
 */

/**
 * Checks a request against its capability's one shape.
 * @param {string} capabilityId
 * @param {import('../hooks/provider').HookRequest} request
 * @returns {ParsedRequest}
 */
function parseRequest(capabilityId, request) {
  const route = ROUTES[capabilityId]
  if (!route) throw new RequestError(404, 'not_found', `unknown capability ${capabilityId}`)
  if (String(request.method).toUpperCase() !== route.method) {
    throw new RequestError(405, 'method_not_allowed', `${capabilityId} serves ${route.shape}`)
  }
  const segments = segmentsOf(request.path)
  if (!route.matches(segments)) throw new RequestError(404, 'not_found', `${capabilityId} serves ${route.shape}`)
  const params = paramsOf(request.query, route.params)
  const body = capabilityId === 'postgres/query' ? queryBodyOf(request.body) : null
  return {segments, params, body, statementTimeoutMs: body ? body.timeoutMs : DEFAULT_STATEMENT_TIMEOUT_MS}
}

module.exports = {parseRequest, intIn, invalid, ROUTES, DEFAULT_MAX_ROWS, MAX_ROWS}

'use strict'
/**
 * The credential's secret (POSTGRES_URL) names the one server the plugin connects to. Two forms:
 *
 *   postgres://user:password@host:port/database?sslmode=disable|require|verify-full
 *   {"host", "port", "database", "user", "password", "sslmode"}   (JSON)
 *
 * host, user and database are required; port defaults to 5432, password to none, sslmode to
 * disable. Messages about a bad secret never quote its value.
 */

/** @typedef {'disable' | 'require' | 'verify-full'} SslMode */

/**
 * @typedef {object} Target
 * @property {string} host
 * @property {number} port
 * @property {string} database
 * @property {string} user
 * @property {string} password  empty when the secret has none
 * @property {SslMode} sslmode
 */

const SSL_MODES = ['disable', 'require', 'verify-full']
const JSON_FIELDS = ['host', 'port', 'database', 'user', 'password', 'sslmode']
// A DNS name or an IPv4/IPv6 literal; never a unix socket path (those start with "/").
const HOST = /^([A-Za-z0-9][A-Za-z0-9._-]{0,252}|[0-9A-Fa-f:.]{2,45})$/

/** @param {string} why */
function invalid(why) {
  return new Error(`postgres: the credential's secret POSTGRES_URL is invalid: ${why}`)
}

/**
 * @param {unknown} value
 * @param {string} field
 * @param {boolean} required
 * @returns {string}
 */
function text(value, field, required) {
  if (value === undefined || value === null || value === '') {
    if (required) throw invalid(`${field} is required`)
    return ''
  }
  if (typeof value !== 'string') throw invalid(`${field} must be a string`)
  if (value.includes('\0')) throw invalid(`${field} must not contain NUL`)
  return value
}

/** @param {unknown} value */
function port(value) {
  if (value === undefined || value === null || value === '') return 5432
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^[0-9]{1,5}$/.test(value) ? Number(value) : NaN
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw invalid('port must be a number from 1 to 65535')
  return n
}

/** @param {unknown} value @returns {SslMode} */
function sslmode(value) {
  if (value === undefined || value === null || value === '') return 'disable'
  if (typeof value !== 'string' || !SSL_MODES.includes(value)) throw invalid(`sslmode must be one of ${SSL_MODES.join(', ')}`)
  return /** @type {SslMode} */ (value)
}

/** @param {Record<string, unknown>} fields @returns {Target} */
function target(fields) {
  const host = text(fields.host, 'host', true)
  if (!HOST.test(host)) throw invalid('host must be a host name or an IP address (unix sockets are not supported)')
  return {
    host,
    port: port(fields.port),
    database: text(fields.database, 'database', true),
    user: text(fields.user, 'user', true),
    password: text(fields.password, 'password', false),
    sslmode: sslmode(fields.sslmode),
  }
}

/** @param {string} value @returns {Target} */
function fromJson(value) {
  let parsed
  try {
    parsed = JSON.parse(value)
  } catch {
    throw invalid('it starts with "{" but is not valid JSON')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid('the JSON form must be an object')
  for (const key of Object.keys(parsed)) {
    if (!JSON_FIELDS.includes(key)) throw invalid(`unknown JSON field (accepted: ${JSON_FIELDS.join(', ')})`)
  }
  return target(parsed)
}

/** @param {string} value @returns {Target} */
function fromUrl(value) {
  let url
  try {
    url = new URL(value)
  } catch {
    throw invalid('expected postgres://user:password@host:port/database or a JSON object')
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw invalid('the URL must start with postgres:// or postgresql://')
  if (url.hash) throw invalid('the URL must not have a #fragment')
  for (const key of url.searchParams.keys()) {
    if (key !== 'sslmode') throw invalid('the only URL parameter accepted is sslmode')
  }
  const decode = (/** @type {string} */ part, /** @type {string} */ field) => {
    try {
      return decodeURIComponent(part)
    } catch {
      throw invalid(`the ${field} is not correctly percent-encoded`)
    }
  }
  const database = url.pathname.replace(/^\//, '')
  if (database.includes('/')) throw invalid('the database name must be one path segment')
  return target({
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port,
    database: decode(database, 'database'),
    user: decode(url.username, 'user'),
    password: decode(url.password, 'password'),
    sslmode: url.searchParams.get('sslmode') ?? undefined,
  })
}

/**
 * The server a secret names.
 * @param {unknown} value the decrypted POSTGRES_URL
 * @returns {Target}
 */
function parseSecret(value) {
  if (typeof value !== 'string' || value.trim() === '') throw invalid('it is empty')
  const trimmed = value.trim()
  return trimmed.startsWith('{') ? fromJson(trimmed) : fromUrl(trimmed)
}

/**
 * A function that removes the secret from text: the whole value and the password in every
 * spelling a message could carry (as is, percent-encoded, trimmed).
 * @param {unknown} secret
 * @returns {(text: string) => string}
 */
function makeScrubber(secret) {
  const raw = typeof secret === 'string' ? secret : ''
  /** @type {Set<string>} */
  const needles = new Set([raw, raw.trim()])
  try {
    const password = parseSecret(raw).password
    needles.add(password)
    needles.add(encodeURIComponent(password))
    needles.add(JSON.stringify(password).slice(1, -1))
    if (!raw.trim().startsWith('{')) needles.add(new URL(raw.trim()).password)
  } catch {
    // An unparsable secret: the whole value is still removed.
  }
  // Longest first, so a password inside the URL does not leave the URL's other parts behind.
  const list = [...needles].filter((n) => n.length > 0).sort((a, b) => b.length - a.length)
  return (text) => list.reduce((out, needle) => out.split(needle).join('[REDACTED]'), String(text))
}

module.exports = {parseSecret, makeScrubber}

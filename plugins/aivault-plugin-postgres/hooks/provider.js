'use strict'
/**
 * The `aivault:provider` hook of aivault-plugin-postgres: serves the postgres/* capabilities
 * (transport: plugin) in a read-only transaction on the server named by the credential's
 * POSTGRES_URL secret, and only that server. See ../README.md for the request shapes.
 */
const {parseSecret, makeScrubber} = require('../lib/secret')
const {parseRequest} = require('../lib/requests')
const {HANDLERS} = require('../lib/capabilities')
const {runReadOnly, RequestError} = require('../lib/session')

// The payload and result types, as declared by aivault in src/plugins/hooks.ts.
/**
 * @typedef {object} HookRequest
 * @property {string} method
 * @property {string} path    normalized, without the query
 * @property {Array<[string, string]>} query
 * @property {Array<{name: string, value: string}>} headers
 * @property {Buffer} body
 */
/**
 * @typedef {object} ProviderPayload
 * @property {HookRequest} request
 * @property {{id: string, provider: string, transport: 'http' | 'plugin'}} capability
 * @property {{id: string, provider: string, hosts: string[]}} credential
 * @property {Record<string, string>} secrets   by placeholder: `secret` holds POSTGRES_URL
 * @property {{workspaceId: string | null, groupId: string | null, consumer: string | null, clientIp: string | null}} invocation
 * @property {AbortSignal} signal
 * @property {number} timeoutMs
 */
/**
 * @typedef {object} ProviderResult
 * @property {number} status
 * @property {Record<string, string>} [headers]
 * @property {unknown} [json]
 * @property {Buffer | string} [body]
 */

const DEFAULT_TIMEOUT_MS = 30_000

/**
 * @param {ProviderPayload} payload
 * @returns {Promise<ProviderResult>}
 */
async function provider(payload) {
  const secret = payload.secrets?.secret
  const scrub = makeScrubber(secret)
  let request
  try {
    request = parseRequest(payload.capability.id, payload.request)
  } catch (error) {
    if (!(error instanceof RequestError)) throw error
    return {status: error.status, json: {error: {code: error.code, message: scrub(error.message)}}}
  }
  // The secret is the only source of the server: the request, the credential's host labels and
  // pg's PG* environment variables are never used to choose where to connect.
  const target = parseSecret(secret)
  const timeoutMs = Number.isFinite(payload.timeoutMs) && payload.timeoutMs > 0 ? payload.timeoutMs : DEFAULT_TIMEOUT_MS
  const signal = payload.signal ?? new AbortController().signal
  const handler = HANDLERS[payload.capability.id]
  const result = await runReadOnly(target, {signal, timeoutMs, statementTimeoutMs: request.statementTimeoutMs, scrub}, (db) => handler(db, request))
  // Rows can hold anything, the connection URL included: it leaves redacted like any error.
  return {status: result.status, json: scrubDeep(result.json, scrub)}
}

/**
 * @param {unknown} value
 * @param {(text: string) => string} scrub
 * @returns {unknown}
 */
function scrubDeep(value, scrub) {
  if (typeof value === 'string') return scrub(value)
  if (Array.isArray(value)) return value.map((item) => scrubDeep(item, scrub))
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [scrub(key), scrubDeep(item, scrub)]))
  }
  return value
}

module.exports = provider
module.exports.default = provider

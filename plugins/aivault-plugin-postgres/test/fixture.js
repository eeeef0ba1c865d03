'use strict'
/**
 * The tests' database: a cluster with a database `shopdb`, a login role `agent` (not a
 * superuser, a password full of URL syntax) allowed to read two schemas, and a helper that
 * calls the provider hook the way aivault does.
 */
const assert = require('node:assert/strict')
const {escapeIdentifier, escapeLiteral} = require('pg')
const {startCluster} = require('./cluster')
const provider = require('../hooks/provider')

const AGENT_PASSWORD = `Ag3nt:p@ss/w%rd?é#"'-${process.pid}`
const ODD_SCHEMA = 'Odd "Schema"'
const ODD_TABLE = "we'ird; table"

/**
 * @typedef {object} Fixture
 * @property {import('./cluster').Cluster} cluster
 * @property {string} url        the agent's POSTGRES_URL
 * @property {string} json       the agent's POSTGRES_URL in the JSON form
 * @property {(sql: string, values?: unknown[]) => Promise<any[]>} adminQuery   as the superuser, in shopdb
 * @property {() => Promise<void>} waitNoSessions   until the plugin's connections are all gone
 * @property {() => Promise<void>} stop
 */

/** @returns {Promise<Fixture>} */
async function startFixture() {
  const cluster = await startCluster()
  try {
    const setup = await cluster.admin()
    await setup.query('CREATE DATABASE shopdb')
    await setup.query(`CREATE ROLE agent LOGIN PASSWORD ${escapeLiteral(AGENT_PASSWORD)}`)
    await setup.end()
    const db = await cluster.admin('shopdb')
    const odd = `${escapeIdentifier(ODD_SCHEMA)}.${escapeIdentifier(ODD_TABLE)}`
    await db.query(`
      CREATE SCHEMA shop;
      CREATE TABLE shop.items (id serial PRIMARY KEY, name text NOT NULL UNIQUE, price numeric(10,2), tags text[], added date DEFAULT '2024-01-01');
      COMMENT ON TABLE shop.items IS 'Things for sale';
      COMMENT ON COLUMN shop.items.price IS 'In euros';
      INSERT INTO shop.items (name, price, tags) SELECT 'item ' || g, g * 1.5, ARRAY['t' || g] FROM generate_series(1, 250) g;
      CREATE TABLE shop.victim (x int);
      INSERT INTO shop.victim VALUES (1);
      CREATE SEQUENCE shop.counter;
      CREATE VIEW shop.cheap AS SELECT id, name FROM shop.items WHERE price < 10;
      CREATE SCHEMA ${escapeIdentifier(ODD_SCHEMA)};
      CREATE TABLE ${odd} (x int);
      INSERT INTO ${odd} VALUES (1), (2), (3);
      ANALYZE;
      GRANT USAGE ON SCHEMA shop, ${escapeIdentifier(ODD_SCHEMA)} TO agent;
      GRANT SELECT ON ALL TABLES IN SCHEMA shop, ${escapeIdentifier(ODD_SCHEMA)} TO agent;
      GRANT ALL ON ALL SEQUENCES IN SCHEMA shop TO agent;
      GRANT ALL ON shop.victim TO agent;`)
    await db.end()
  } catch (error) {
    await cluster.stop()
    throw error
  }
  const adminQuery = async (/** @type {string} */ sql, /** @type {unknown[]} */ values = []) => {
    const client = await cluster.admin('shopdb')
    try {
      return (await client.query(sql, values)).rows
    } finally {
      await client.end()
    }
  }
  return {
    cluster,
    url: `postgres://agent:${encodeURIComponent(AGENT_PASSWORD)}@127.0.0.1:${cluster.port}/shopdb`,
    json: JSON.stringify({host: '127.0.0.1', port: cluster.port, database: 'shopdb', user: 'agent', password: AGENT_PASSWORD}),
    adminQuery,
    waitNoSessions: () =>
      waitFor(async () => {
        const rows = await adminQuery("SELECT pid FROM pg_stat_activity WHERE application_name = 'aivault-plugin-postgres'")
        return rows.length === 0
      }, 'the plugin left sessions open'),
    stop: () => cluster.stop(),
  }
}

/**
 * Polls `check` until it is true (at most 10 s).
 * @param {() => Promise<boolean>} check @param {string} what
 */
async function waitFor(check, what) {
  const started = Date.now()
  while (!(await check())) {
    if (Date.now() - started > 10_000) assert.fail(`${what} (after 10 s)`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/**
 * Calls the provider hook with the payload aivault builds.
 * @param {string} capability   e.g. postgres/query
 * @param {{secret: string, method?: string, path: string, query?: Array<[string, string]>, body?: unknown,
 *          headers?: Array<{name: string, value: string}>, timeoutMs?: number, signal?: AbortSignal, hosts?: string[]}} options
 */
function invoke(capability, options) {
  const body = options.body === undefined ? Buffer.alloc(0) : Buffer.from(typeof options.body === 'string' ? options.body : JSON.stringify(options.body))
  return provider({
    request: {method: options.method ?? 'GET', path: options.path, query: options.query ?? [], headers: options.headers ?? [], body},
    capability: {id: capability, provider: 'postgres', transport: 'plugin'},
    credential: {id: 'postgres', provider: 'postgres', hosts: options.hosts ?? ['postgres']},
    secrets: {secret: options.secret},
    invocation: {workspaceId: null, groupId: null, consumer: null, clientIp: null},
    signal: options.signal ?? new AbortController().signal,
    timeoutMs: options.timeoutMs ?? 20_000,
  })
}

module.exports = {startFixture, invoke, waitFor, AGENT_PASSWORD, ODD_SCHEMA, ODD_TABLE}

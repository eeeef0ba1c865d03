'use strict'
/**
 * A throwaway PostgreSQL server for the tests: `initdb` in a temp folder, `postgres` on
 * 127.0.0.1 at a free port, password (SCRAM) authentication, stopped and removed by stop().
 * initdb and postgres refuse to run as root, so as root they run as the `postgres` system
 * user (or `nobody`) through runuser. Missing binaries are an error, never a skip.
 */
const {execFileSync, spawn} = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const pg = require('pg')

/** The folder holding initdb and postgres: PATH first, then Debian's /usr/lib/postgresql/<version>/bin. */
function findBinDir() {
  const onPath = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)
  let debian = []
  try {
    debian = fs
      .readdirSync('/usr/lib/postgresql')
      .sort((a, b) => Number(b) - Number(a))
      .map((version) => path.join('/usr/lib/postgresql', version, 'bin'))
  } catch {
    // No Debian layout.
  }
  const dir = [...onPath, ...debian].find((d) => ['initdb', 'postgres'].every((name) => isExecutable(path.join(d, name))))
  if (!dir) {
    throw new Error('PostgreSQL server binaries (initdb, postgres) not found on PATH or under /usr/lib/postgresql/*/bin: install the Debian package postgresql (.ci/run does)')
  }
  return dir
}

/** @param {string} file */
function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK)
    return fs.statSync(file).isFile()
  } catch {
    return false
  }
}

/** As root: the unprivileged user to run the server as, with its ids. */
function serverUser() {
  if (process.getuid?.() !== 0) return null
  for (const name of ['postgres', 'nobody']) {
    try {
      const id = (/** @type {string} */ flag) => Number(execFileSync('id', [flag, name], {encoding: 'utf8'}).trim())
      return {name, uid: id('-u'), gid: id('-g')}
    } catch {
      // Try the next one.
    }
  }
  throw new Error('running as root, and neither a postgres nor a nobody user exists to run PostgreSQL as')
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = /** @type {net.AddressInfo} */ (server.address())
      server.close(() => resolve(port))
    })
  })
}

/**
 * @typedef {object} Cluster
 * @property {string} host
 * @property {number} port
 * @property {string} adminUser       a superuser
 * @property {string} adminPassword
 * @property {string} dir             the temp folder (owned by the server's user)
 * @property {(database?: string) => Promise<pg.Client>} admin   a connected superuser client
 * @property {() => Promise<void>} stop
 */

/** @returns {Promise<Cluster>} */
async function startCluster() {
  const bin = findBinDir()
  const user = serverUser()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-pg-'))
  if (user) fs.chownSync(dir, user.uid, user.gid)
  const asUser = (/** @type {string} */ file, /** @type {string[]} */ args) =>
    user ? ['runuser', ['-u', user.name, '--', path.join(bin, file), ...args]] : [path.join(bin, file), args]
  const adminPassword = `admin-${process.pid}-${Date.now()}`
  const pwfile = path.join(dir, 'pwfile')
  fs.writeFileSync(pwfile, adminPassword + '\n', {mode: 0o600})
  if (user) fs.chownSync(pwfile, user.uid, user.gid)
  const data = path.join(dir, 'data')
  const [initdb, initArgs] = asUser('initdb', ['-D', data, '-U', 'admin', `--pwfile=${pwfile}`, '--auth=scram-sha-256', '--no-locale', '-E', 'UTF8', '--no-sync'])
  execFileSync(/** @type {string} */ (initdb), /** @type {string[]} */ (initArgs), {cwd: dir, stdio: ['ignore', 'pipe', 'pipe']})

  const port = /** @type {number} */ (await freePort())
  const settings = ['listen_addresses=127.0.0.1', 'fsync=off', 'full_page_writes=off', 'max_connections=30', 'shared_buffers=16MB']
  const [cmd, args] = asUser('postgres', ['-D', data, '-k', dir, '-p', String(port), ...settings.flatMap((s) => ['-c', s])])
  const child = spawn(/** @type {string} */ (cmd), /** @type {string[]} */ (args), {cwd: dir, stdio: ['ignore', 'pipe', 'pipe']})
  let log = ''
  const keep = (/** @type {Buffer} */ chunk) => (log = (log + chunk.toString()).slice(-8000))
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  const exited = new Promise((resolve) => child.once('exit', resolve))
  let running = true
  void exited.then(() => (running = false))

  const postmasterPid = () => {
    try {
      return Number(fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0])
    } catch {
      return 0
    }
  }
  // Should the test process die first, do not leave a server behind.
  const killOnExit = () => {
    const pid = postmasterPid()
    if (pid) process.kill(pid, 'SIGQUIT')
  }
  process.once('exit', killOnExit)

  const admin = async (database = 'postgres') => {
    const client = new pg.Client({host: '127.0.0.1', port, user: 'admin', password: adminPassword, database})
    client.on('error', () => {})
    await client.connect()
    return client
  }
  const stop = async () => {
    process.removeListener('exit', killOnExit)
    const pid = postmasterPid()
    if (running) {
      if (pid) process.kill(pid, 'SIGINT')
      else child.kill('SIGKILL')
      await exited
    }
    fs.rmSync(dir, {recursive: true, force: true})
  }

  // Ready when a real connection succeeds.
  const started = Date.now()
  for (;;) {
    if (!running) throw new Error(`postgres exited during start-up:\n${log}`)
    try {
      const client = await admin()
      await client.end()
      break
    } catch (error) {
      if (Date.now() - started > 30_000) {
        await stop()
        throw new Error(`postgres did not accept connections within 30 s (${error instanceof Error ? error.message : error}):\n${log}`)
      }
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 100))])
    }
  }
  return {host: '127.0.0.1', port, adminUser: 'admin', adminPassword, dir, admin, stop}
}

module.exports = {startCluster, freePort}

/**
 * Local HTTPS stand-ins for real provider APIs. One server on 127.0.0.1 presents a
 * certificate for every provider host the tests use, signed by a test CA generated with the
 * `openssl` command line once per test process into a temp folder (removed at exit; no keys
 * are committed). A testing vault reaches it through `resolveEnv()` (SPEC §14, §15 "Test
 * overrides"): the broker keeps the real host name in the URL, Host header and TLS SNI, and
 * connects to this port. Every request is recorded; responses are programmed per route.
 */
import {execFile} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import * as fs from 'node:fs'
import type * as http from 'node:http'
import * as https from 'node:https'
import type {AddressInfo, Socket} from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import {setTimeout as setTimeoutPromise} from 'node:timers/promises'
import type {TLSSocket} from 'node:tls'

/** Host names in the server certificate (plus `*.example.com`); the default for resolveEnv(). */
export const UPSTREAM_HOSTNAMES = [
  'api.openai.com', 'api.anthropic.com', 'api.github.com', 'api.telegram.org', 'api.trello.com', 'api.twilio.com',
  'api.mailgun.net', 'production.plaid.com', 'my-store.myshopify.com', 'evil-store.myshopify.com', 'generativelanguage.googleapis.com',
  'oauth2.googleapis.com', 'gmail.googleapis.com', 'people.googleapis.com', 'api.example.com', 'auth.example.com',
  'other.example.com', 's3.amazonaws.com', 'bedrock-runtime.us-east-1.amazonaws.com',
]

/** PEM paths and contents. `ca*` signs the server certificate; `clientCa*` signs the client certificate. */
export interface TestCerts {
  dir: string
  caCertPath: string; caCert: string
  serverCertPath: string; serverCert: string; serverKeyPath: string; serverKey: string
  clientCaCertPath: string; clientCaCert: string
  clientCertPath: string; clientCert: string; clientKeyPath: string; clientKey: string
}

/** Subject of the client certificate from testCerts(). */
export const CLIENT_CERT_SUBJECT = {CN: 'aivault-test-client', O: 'aivault tests'}

const OPENSSL_CONFIG = `[req]
distinguished_name = dn
[dn]
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost, IP:127.0.0.1, ${UPSTREAM_HOSTNAMES.map((h) => `DNS:${h}`).join(', ')}, DNS:*.example.com
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`

function openssl(dir: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, {cwd: dir, env: {...process.env, OPENSSL_CONF: path.join(dir, 'openssl.cnf')}}, (error, _stdout, stderr) => {
      if (error) reject(new Error(`openssl ${args.join(' ')} failed: ${error.message}\n${stderr}`))
      else resolve()
    })
  })
}

async function generateCerts(): Promise<TestCerts> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-certs-'))
  process.once('exit', () => fs.rmSync(dir, {recursive: true, force: true}))
  fs.writeFileSync(path.join(dir, 'openssl.cnf'), OPENSSL_CONFIG)
  const run = (...args: string[]) => openssl(dir, args)
  const serial = () => `0x${randomBytes(12).toString('hex')}`
  const key = (name: string) => run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name)
  const ca = async (name: string, subject: string) => {
    await key(`${name}.key`)
    await run('req', '-config', 'openssl.cnf', '-new', '-x509', '-key', `${name}.key`, '-subj', subject, '-days', '7',
      '-set_serial', serial(), '-extensions', 'ca_ext', '-out', `${name}.pem`)
  }
  const leaf = async (name: string, subject: string, issuer: string, extensions: string) => {
    await key(`${name}.key`)
    await run('req', '-config', 'openssl.cnf', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`)
    await run('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.pem`, '-CAkey', `${issuer}.key`, '-set_serial', serial(),
      '-days', '7', '-extfile', 'openssl.cnf', '-extensions', extensions, '-out', `${name}.pem`)
  }
  await Promise.all([
    ca('ca', '/CN=aivault test CA').then(() => leaf('server', '/CN=localhost', 'ca', 'server_ext')),
    ca('client-ca', '/CN=aivault test client CA').then(() =>
      leaf('client', `/O=${CLIENT_CERT_SUBJECT.O}/CN=${CLIENT_CERT_SUBJECT.CN}`, 'client-ca', 'client_ext')),
  ])
  const file = (name: string) => path.join(dir, name)
  const read = (name: string) => fs.readFileSync(file(name), 'utf8')
  return {
    dir,
    caCertPath: file('ca.pem'), caCert: read('ca.pem'),
    serverCertPath: file('server.pem'), serverKeyPath: file('server.key'), serverCert: read('server.pem'), serverKey: read('server.key'),
    clientCaCertPath: file('client-ca.pem'), clientCaCert: read('client-ca.pem'),
    clientCertPath: file('client.pem'), clientKeyPath: file('client.key'), clientCert: read('client.pem'), clientKey: read('client.key'),
  }
}

let certsPromise: Promise<TestCerts> | undefined

/** The test certificates, generated on first use and shared by the whole test process. */
export function testCerts(): Promise<TestCerts> {
  certsPromise ??= generateCerts()
  return certsPromise
}

export interface RecordedRequest {
  method: string
  /** Raw request target, query included, exactly as received. */
  path: string
  /** `path` up to the `?`, not decoded. */
  pathname: string
  /** Query pairs in order, decoded once (form rules: `+` is a space). */
  query: Array<[string, string]>
  /** Lower-cased names, values as sent; repeated headers joined with `, `. */
  headers: Record<string, string>
  /** Every header line in order, names as sent, duplicates kept. */
  rawHeaders: Array<[string, string]>
  body: Buffer
  /** TLS server name (SNI) the client sent; undefined when none (e.g. connecting by IP). */
  servername: string | undefined
  /** The client certificate presented in the handshake (mTLS upstreams only). */
  clientCert?: {subject: Record<string, string>; issuer: Record<string, string>; fingerprint256: string}
  receivedAt: number
}

/** Programs one response. `signal` aborts when the client goes away or the upstream closes. */
export type Handler = (req: RecordedRequest, res: http.ServerResponse, signal: AbortSignal) => void | Promise<void>

interface Route {
  method: string
  prefix: string
  host?: string
  handler: Handler
}

export interface UpstreamOptions {
  /** Require a client certificate signed by the client CA (mTLS); clients without one are refused in the handshake. */
  requestClientCert?: boolean
}

export interface Upstream {
  readonly host: '127.0.0.1'
  readonly port: number
  /** The CA to trust (AIVAULT_DEV_CA_CERT_PATH). */
  readonly caPath: string
  readonly certs: TestCerts
  /** Every request, in arrival order (cleared in place by reset()). */
  readonly requests: RecordedRequest[]
  /** TLS handshake failures seen (e.g. an mTLS client without a certificate). */
  readonly tlsErrors: string[]
  /** `https://<hostname>:<port><path>`: the real address for that name (custom credential hosts with a port). */
  url(hostname: string, path?: string): string
  /** Serve requests whose method (`*` for any) and pathname (segment-aware prefix) match; longest prefix, then latest, wins. Returns the handler. */
  route<H extends Handler>(method: string, pathPrefix: string, handler: H, options?: {host?: string}): H
  /** Hear each body chunk as it arrives, before its request is complete (streaming checks). Returns the way to stop. */
  watchBodies(listener: (pathname: string, chunk: Buffer) => void): () => void
  /** The most recent request, if any. */
  last(): RecordedRequest | undefined
  /** Forget requests, TLS errors and routes. */
  reset(): void
  /** Stop listening and drop every open connection. */
  close(): Promise<void>
}

function parseQuery(target: string): Array<[string, string]> {
  const at = target.indexOf('?')
  return at < 0 ? [] : [...new URLSearchParams(target.slice(at + 1)).entries()]
}

function prefixMatches(pathname: string, prefix: string): boolean {
  if (prefix === '' || prefix === '/' || pathname === prefix) return true
  return pathname.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`)
}

/** Start an HTTPS upstream on 127.0.0.1 with a random port. Its default response is echo(). */
export async function startUpstream(options: UpstreamOptions = {}): Promise<Upstream> {
  const certs = await testCerts()
  const requests: RecordedRequest[] = []
  const tlsErrors: string[] = []
  const routes: Route[] = []
  const sockets = new Set<Socket>()
  const bodyWatchers = new Set<(pathname: string, chunk: Buffer) => void>()
  const server = https.createServer({
    key: certs.serverKey,
    cert: certs.serverCert,
    ...(options.requestClientCert ? {requestCert: true, rejectUnauthorized: true, ca: certs.clientCaCert} : {}),
  })
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  server.on('tlsClientError', (error: Error) => tlsErrors.push(error.message))
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      for (const watcher of bodyWatchers) watcher((req.url ?? '/').split('?')[0], chunk)
    })
    req.on('end', () => {
      const tls = req.socket as TLSSocket
      const target = req.url ?? '/'
      const rawHeaders: Array<[string, string]> = []
      const headers: Record<string, string> = {}
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const [name, value] = [req.rawHeaders[i], req.rawHeaders[i + 1]]
        rawHeaders.push([name, value])
        const key = name.toLowerCase()
        headers[key] = key in headers ? `${headers[key]}, ${value}` : value
      }
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET', path: target, pathname: target.split('?')[0], query: parseQuery(target), headers, rawHeaders,
        body: Buffer.concat(chunks), servername: typeof tls.servername === 'string' ? tls.servername : undefined, receivedAt: Date.now(),
      }
      if (options.requestClientCert) {
        const peer = tls.getPeerCertificate()
        if (peer && peer.fingerprint256) {
          recorded.clientCert = {subject: {...peer.subject} as Record<string, string>, issuer: {...peer.issuer} as Record<string, string>, fingerprint256: peer.fingerprint256}
        }
      }
      requests.push(recorded)
      const host = (headers.host ?? '').replace(/:\d+$/, '')
      const candidates = routes.filter((r) => (r.method === '*' || r.method === recorded.method.toUpperCase()) &&
        prefixMatches(recorded.pathname, r.prefix) && (!r.host || r.host === host || r.host === recorded.servername))
      const best = candidates.reduce<Route | undefined>((a, r) => (!a || r.prefix.length >= a.prefix.length ? r : a), undefined)
      const controller = new AbortController()
      res.once('close', () => controller.abort())
      Promise.resolve()
        .then(() => (best?.handler ?? echo())(recorded, res, controller.signal))
        .catch((error: unknown) => {
          if (res.headersSent) res.destroy()
          else res.writeHead(500, {'content-type': 'text/plain'}).end(`upstream handler failed: ${String(error)}`)
        })
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  return {
    host: '127.0.0.1', port, caPath: certs.caCertPath, certs, requests, tlsErrors,
    url: (hostname, p = '/') => `https://${hostname}:${port}${p}`,
    route(method, pathPrefix, handler, routeOptions = {}) {
      routes.push({method: method === '*' ? '*' : method.toUpperCase(), prefix: pathPrefix, host: routeOptions.host, handler})
      return handler
    },
    watchBodies(listener) {
      bodyWatchers.add(listener)
      return () => bodyWatchers.delete(listener)
    },
    last: () => requests[requests.length - 1],
    reset() {
      requests.length = 0
      tlsErrors.length = 0
      routes.length = 0
    },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve())
      for (const socket of sockets) socket.destroy()
    }),
  }
}

/**
 * Environment for a testing vault (`init --testing`) so the broker connects to this upstream
 * for the given names (default: all of UPSTREAM_HOSTNAMES) while keeping their URL, Host and SNI.
 */
export function resolveEnv(upstream: Upstream, hostnames: string[] = UPSTREAM_HOSTNAMES): Record<string, string> {
  return {
    AIVAULT_DEV_RESOLVE: hostnames.map((h) => `${h}=${upstream.host}:${upstream.port}`).join(','),
    AIVAULT_DEV_CA_CERT_PATH: upstream.caPath,
    AIVAULT_DEV_ALLOW_PRIVATE_UPSTREAMS: '1',
    AIVAULT_DEV_ALLOW_NON_DEFAULT_PORTS: '1',
  }
}

// ---- Response helpers: each returns a Handler for Upstream.route(). ----

type Headers = Record<string, string | string[]>

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return setTimeoutPromise(ms, undefined, {signal}).catch(() => undefined)
}

/** `{method, path, query, headers, body (utf8), servername}` as JSON. The default handler. */
/** The requests that reached `host` (by TLS server name or Host header). */
export function reached(up: Upstream, host: string): RecordedRequest[] {
  return up.requests.filter((r) => r.servername === host || r.headers.host?.replace(/:\d+$/, '') === host)
}

export function echo(status = 200): Handler {
  return (req, res, signal) => {
    const {method, path: p, query, headers, servername} = req
    return json(status, {method, path: p, query, headers, body: req.body.toString('utf8'), servername})(req, res, signal)
  }
}

export function json(status: number, value: unknown, extraHeaders: Headers = {}): Handler {
  return (_req, res) => {
    res.writeHead(status, {'content-type': 'application/json', ...extraHeaders}).end(JSON.stringify(value))
  }
}

export function text(status: number, body: string | Buffer, extraHeaders: Headers = {}): Handler {
  return (_req, res) => {
    res.writeHead(status, {'content-type': 'text/plain; charset=utf-8', ...extraHeaders}).end(body)
  }
}

/**
 * Server-sent events: the first at once, then one every `delayMs`; the response ends right after
 * the last. Strings are sent as data lines, anything else as JSON. `sentAt` holds write times.
 */
export function sse(events: unknown[], options: {delayMs?: number; status?: number} = {}): Handler & {sentAt: number[]} {
  const sentAt: number[] = []
  const handler = async (_req: RecordedRequest, res: http.ServerResponse, signal: AbortSignal) => {
    res.writeHead(options.status ?? 200, {'content-type': 'text/event-stream', 'cache-control': 'no-cache'})
    res.flushHeaders()
    for (const [i, event] of events.entries()) {
      if (i > 0) await sleep(options.delayMs ?? 100, signal)
      if (signal.aborted) return
      const data = typeof event === 'string' ? event : JSON.stringify(event)
      res.write(`${data.split('\n').map((line) => `data: ${line}`).join('\n')}\n\n`)
      sentAt.push(Date.now())
    }
    res.end()
  }
  return Object.assign(handler, {sentAt})
}

export function redirect(status: number, location: string): Handler {
  return json(status, {redirect: location}, {location})
}

/** Wait `ms`, then respond with `then` (default echo()). */
export function delay(ms: number, then: Handler = echo()): Handler {
  return async (req, res, signal) => {
    await sleep(ms, signal)
    if (!signal.aborted) await then(req, res, signal)
  }
}

/** A body of exactly `bytes` bytes (`a`..`z` repeating), with content-length unless `chunked`. */
export function largeBody(bytes: number, options: {chunked?: boolean; contentType?: string} = {}): Handler {
  return async (_req, res, signal) => {
    const headers: Headers = {'content-type': options.contentType ?? 'application/octet-stream'}
    if (!options.chunked) headers['content-length'] = String(bytes)
    res.writeHead(200, headers)
    const block = Buffer.alloc(64 * 1024)
    for (let i = 0; i < block.length; i++) block[i] = 97 + (i % 26)
    for (let sent = 0; sent < bytes && !signal.aborted; sent += block.length) {
      if (!res.write(block.subarray(0, Math.min(block.length, bytes - sent)))) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done).off('close', done)
            resolve()
          }
          res.on('drain', done).on('close', done)
        })
      }
    }
    res.end()
  }
}

/** Response headers a broker must strip (SPEC §7 step 12), with the values this fixture sends. */
export const SENSITIVE_RESPONSE_HEADERS: Record<string, string | string[]> = {
  'set-cookie': ['session=upstream-session-secret; Path=/; HttpOnly', 'tracking=abc123'],
  'x-api-key': 'upstream-echoed-key-secret',
  'proxy-authenticate': 'Basic realm="upstream"',
  'keep-alive': 'timeout=5',
  connection: 'keep-alive',
  'transfer-encoding': 'chunked',
}

/** 200 JSON `body` with SENSITIVE_RESPONSE_HEADERS plus the harmless `x-request-id: req_fixture_1`. */
export function sensitiveHeaders(body: unknown = {ok: true}): Handler {
  return json(200, body, {...SENSITIVE_RESPONSE_HEADERS, 'x-request-id': 'req_fixture_1'})
}

/** 401 (`{"error":"invalid_token"}`) for the first `failures` calls (default 1), then `then` (default echo()). */
export function unauthorizedOnce(then: Handler = echo(), failures = 1): Handler & {calls: number} {
  const handler: Handler & {calls: number} = Object.assign((req: RecordedRequest, res: http.ServerResponse, signal: AbortSignal) => {
    handler.calls++
    if (handler.calls > failures) return then(req, res, signal)
    json(401, {error: 'invalid_token'}, {'www-authenticate': 'Bearer error="invalid_token"'})(req, res, signal)
  }, {calls: 0})
  return handler
}

export interface OAuthTokenOptions {
  /** A fixed token, or one per call (`n` counts from 1). Default `test-access-token-<n>`. */
  accessToken?: string | ((n: number) => string)
  expiresIn?: number
  tokenType?: string
  /** Also return this refresh_token (rotation). */
  refreshToken?: string
  /** Answer with this status and `{"error":"invalid_grant"}` instead (refresh failure tests). */
  failWith?: number
}

/** An OAuth token endpoint: counts calls, records each form body, returns `{access_token, expires_in, token_type}`. */
export type OAuthTokenHandler = Handler & {calls: number; forms: Array<Record<string, string>>; issued: string[]}

export function oauthToken(options: OAuthTokenOptions = {}): OAuthTokenHandler {
  const handler: OAuthTokenHandler = Object.assign((req: RecordedRequest, res: http.ServerResponse, signal: AbortSignal) => {
    handler.calls++
    const raw = req.body.toString('utf8')
    let form: Record<string, string>
    try {
      form = (req.headers['content-type'] ?? '').includes('json') ? JSON.parse(raw) : Object.fromEntries(new URLSearchParams(raw))
    } catch {
      form = {}
    }
    handler.forms.push(form)
    if (options.failWith) return json(options.failWith, {error: 'invalid_grant'})(req, res, signal)
    const token = typeof options.accessToken === 'function' ? options.accessToken(handler.calls) : options.accessToken ?? `test-access-token-${handler.calls}`
    handler.issued.push(token)
    const body: Record<string, unknown> = {access_token: token, expires_in: options.expiresIn ?? 3600, token_type: options.tokenType ?? 'Bearer'}
    if (options.refreshToken) body.refresh_token = options.refreshToken
    json(200, body, {'cache-control': 'no-store'})(req, res, signal)
  }, {calls: 0, forms: [] as Array<Record<string, string>>, issued: [] as string[]})
  return handler
}

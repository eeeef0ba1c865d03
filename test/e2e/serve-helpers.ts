/**
 * Helpers for the `aivault serve` end-to-end suites: a served CLI process on a random loopback
 * port, raw HTTP requests sent byte for byte, problem+json checks and token minting.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import * as assert from 'node:assert/strict'
import * as http from 'node:http'

import {CLI, parseJson, type TempVault} from './fixture'
import type {RecordedRequest} from './upstream'

// ---- a running `aivault serve` ----

export interface Served {
  proc: ChildProcess
  host: string
  port: number
  /** `http://127.0.0.1:<port>` (always loopback, whatever it listens on). */
  base: string
  output(): string
  stop(): Promise<void>
}

/** Spawn `aivault serve --port 0 ...extra` and wait for its "listening on" line. */
export function startServe(tv: TempVault, env: Record<string, string>, extra: string[] = []): Promise<Served> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...extra], {env: {...tv.env, ...env}, cwd: tv.base, stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    let settled = false
    const exited = new Promise<void>((r) => proc.once('exit', () => r()))
    const stop = async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM')
        const timer = setTimeout(() => proc.kill('SIGKILL'), 3000)
        await exited
        clearTimeout(timer)
      }
    }
    const timer = setTimeout(() => {
      if (settled) return
      settled = true
      void stop()
      reject(new Error(`serve did not start within 30 s:\n${out}`))
    }, 30_000)
    const onData = (d: Buffer) => {
      out += d.toString('utf8')
      const match = /aivault serve listening on http:\/\/(\S+):(\d+)/.exec(out)
      if (match && !settled) {
        settled = true
        clearTimeout(timer)
        const port = Number(match[2])
        resolve({proc, host: match[1], port, base: `http://127.0.0.1:${port}`, output: () => out, stop})
      }
    }
    proc.stdout!.on('data', onData)
    proc.stderr!.on('data', onData)
    proc.once('exit', (code) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      reject(new Error(`serve exited ${code} before listening:\n${out}`))
    })
  })
}

// ---- raw HTTP ----

export interface Reply {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
}

/** `rawPath` is sent byte for byte (no URL normalization of dot segments). */
export function request(url: string, options: {method?: string; headers?: Record<string, string>; body?: string; localAddress?: string; rawPath?: string} = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const parsed = new URL(url)
    const target = {hostname: parsed.hostname, port: parsed.port, path: options.rawPath ?? `${parsed.pathname}${parsed.search}`}
    const req = http.request({...target, method: options.method ?? 'GET', headers: options.headers, localAddress: options.localAddress, agent: false}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8')}))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.setTimeout(30_000, () => req.destroy(new Error(`no reply from ${url} within 30 s`)))
    req.end(options.body)
  })
}

/** SPEC §15: broker errors are application/problem+json `{type, title, status, code, detail}`. */
export function assertProblem(reply: Reply, status: number, code: string, what = ''): void {
  const where = `${what} -> ${reply.status} ${reply.headers['content-type']} ${reply.body}`
  assert.equal(reply.status, status, `status: ${where}`)
  assert.match(String(reply.headers['content-type']), /^application\/problem\+json\b/, `content type: ${where}`)
  const body = JSON.parse(reply.body)
  for (const field of ['type', 'title', 'detail']) assert.ok(typeof body[field] === 'string' && body[field] !== '', `${field} missing: ${where}`)
  assert.equal(body.status, status, `body.status: ${where}`)
  assert.equal(body.code, code, `body.code: ${where}`)
}

/** Every place a recorded upstream request could carry a value: target, query, headers, body. */
export function requestTexts(reqs: RecordedRequest[]): Record<string, string> {
  const texts: Record<string, string> = {}
  for (const [i, r] of reqs.entries()) {
    texts[`upstream request ${i} (${r.method} ${r.pathname}) target`] = r.path
    texts[`upstream request ${i} query`] = JSON.stringify(r.query)
    texts[`upstream request ${i} headers`] = r.rawHeaders.map(([n, v]) => `${n}: ${v}`).join('\n')
    texts[`upstream request ${i} body`] = r.body.toString('latin1')
  }
  return texts
}

export interface Minted {
  id: string
  token: string
  expiresAt: string
  capabilities: string[]
}

export async function mint(tv: TempVault, capabilities: string[], extra: string[] = []): Promise<Minted> {
  const result = await tv.runAsync(['token', 'mint', ...capabilities.flatMap((c) => ['--capability', c]), ...extra, '--json'])
  assert.equal(result.status, 0, `token mint failed: ${result.stdout}${result.stderr}`)
  return parseJson<Minted>(result)
}


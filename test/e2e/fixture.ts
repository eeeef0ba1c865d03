/**
 * Shared fixture for end-to-end tests: a temporary HOME, vault folder and keys folder, and a
 * way to run the built CLI (bin/run.js) in them. Every test gets fresh folders; dispose()
 * removes them. Tests run the real binary, so `npm run build` must have run first.
 */
import {spawn, spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

export const REPO_ROOT = path.resolve(__dirname, '..', '..')
export const CLI = path.join(REPO_ROOT, 'bin', 'run.js')

export interface CliResult {
  status: number
  stdout: string
  stderr: string
}

export interface RunOptions {
  input?: string | Buffer
  env?: NodeJS.ProcessEnv
  cwd?: string
}

export class TempVault {
  readonly base: string
  readonly home: string
  readonly root: string
  readonly keysDir: string
  readonly env: NodeJS.ProcessEnv

  constructor(base?: string) {
    this.base = base ?? fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-test-'))
    this.home = path.join(this.base, 'home')
    this.root = path.join(this.base, 'vault')
    this.keysDir = path.join(this.base, 'keys')
    fs.mkdirSync(this.home, {recursive: true})
    // In-process by default (SPEC §10: AIVAULTD_AUTOSTART=0 alone would fail with no daemon);
    // daemon tests delete AIVAULTD_DISABLE from `env`.
    const env: NodeJS.ProcessEnv = {PATH: process.env.PATH, HOME: this.home, AIVAULT_DIR: this.root, AIVAULT_KEYS_DIR: this.keysDir, NO_COLOR: '1', AIVAULTD_DISABLE: '1'}
    this.env = env
  }

  /** Run the CLI synchronously. */
  run(args: string[], options: RunOptions = {}): CliResult {
    const result = spawnSync(process.execPath, [CLI, ...args], {
      env: {...this.env, ...options.env},
      input: options.input,
      cwd: options.cwd ?? this.base,
      encoding: 'utf8',
      timeout: 120_000,
    })
    if (result.error) throw result.error
    return {status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr}
  }

  /** Run the CLI asynchronously (for concurrency tests). */
  runAsync(args: string[], options: RunOptions = {}): Promise<CliResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, ...args], {env: {...this.env, ...options.env}, cwd: options.cwd ?? this.base})
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d) => (stdout += d))
      child.stderr.on('data', (d) => (stderr += d))
      child.on('error', reject)
      child.on('close', (code) => resolve({status: code ?? -1, stdout, stderr}))
      if (options.input !== undefined) child.stdin.end(options.input)
      else child.stdin.end()
    })
  }

  /** Run with --json and parse stdout; throws with the output when it is not JSON. */
  json<T = any>(args: string[], options: RunOptions = {}): T & {__status?: number} {
    const result = this.run([...args, '--json'], options)
    try {
      return JSON.parse(result.stdout)
    } catch {
      throw new Error(`not JSON (exit ${result.status}): ${result.stdout}\n${result.stderr}`)
    }
  }

  /** Run, expecting exit 0; returns stdout. */
  ok(args: string[], options: RunOptions = {}): string {
    const result = this.run(args, options)
    if (result.status !== 0) throw new Error(`aivault ${args.join(' ')} exited ${result.status}\n${result.stdout}\n${result.stderr}`)
    return result.stdout
  }

  /** Create a secret from stdin; returns its id. */
  createSecret(name: string, value: string, extra: string[] = []): string {
    const out = this.json(['secrets', 'create', '--name', name, '--value-stdin', ...extra], {input: value})
    if (!out.secret) throw new Error(`secrets create ${name} failed: ${JSON.stringify(out)}`)
    return out.secret.id
  }

  /** Every file under a folder with its bytes, for "nothing changed" assertions. */
  snapshot(dir = this.root, ignore: RegExp = /(^|\/)(run|audit)(\/|$)/): Record<string, string> {
    const out: Record<string, string> = {}
    const walk = (d: string) => {
      if (!fs.existsSync(d)) return
      for (const entry of fs.readdirSync(d, {withFileTypes: true})) {
        const full = path.join(d, entry.name)
        const rel = path.relative(dir, full)
        if (ignore.test(rel)) continue
        if (entry.isDirectory()) walk(full)
        else out[rel] = fs.readFileSync(full).toString('base64')
      }
    }
    walk(dir)
    return out
  }

  /** All text under the temp base (vault, keys, home), for "no plaintext anywhere" checks. */
  allText(): string {
    const parts: string[] = []
    const walk = (d: string) => {
      for (const entry of fs.readdirSync(d, {withFileTypes: true})) {
        const full = path.join(d, entry.name)
        if (entry.isDirectory()) walk(full)
        else if (entry.isFile()) parts.push(fs.readFileSync(full, 'latin1'))
      }
    }
    walk(this.base)
    return parts.join('\n')
  }

  dispose(): void {
    fs.rmSync(this.base, {recursive: true, force: true})
  }
}

/** A fresh TempVault per test, disposed after it. Use inside a mocha `describe`. */
export function useTempVault(): () => TempVault {
  let current: TempVault | undefined
  beforeEach(() => {
    current = new TempVault()
  })
  afterEach(() => {
    current?.dispose()
    current = undefined
  })
  return () => {
    if (!current) throw new Error('no temp vault outside a test')
    return current
  }
}

/**
 * A copy of another TempVault's whole temp base (vault, keys, home) in a fresh folder, with
 * file modes kept, so one slow set-up can serve many destructive tests. Dispose it as usual.
 */
export function cloneTempVault(source: TempVault): TempVault {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-test-'))
  const copied = spawnSync('cp', ['-a', `${source.base}/.`, base], {encoding: 'utf8'})
  if (copied.status !== 0) throw new Error(`cp -a failed: ${copied.stderr}`)
  return new TempVault(base)
}

/** Parse `--json` output of a finished run; throws with the output when it is not JSON. */
export function parseJson<T = any>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout)
  } catch {
    throw new Error(`not JSON (exit ${result.status}): ${result.stdout}\n${result.stderr}`)
  }
}

/**
 * A human-mode failure in the SPEC §0 form: the given exit code, nothing on stdout, and on
 * stderr exactly one `Error: <message>` line plus an optional `Hint: <text>` line (so never a
 * stack trace). Returns the message.
 */
export function expectHumanError(result: CliResult, exit: number): string {
  const where = `exit ${result.status}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`
  if (result.status !== exit) throw new Error(`expected exit ${exit}, got ${where}`)
  if (result.stdout !== '') throw new Error(`expected nothing on stdout, got ${where}`)
  const lines = result.stderr.replace(/\n$/, '').split('\n')
  const ok = lines.length >= 1 && lines.length <= 2 && /^Error: \S/.test(lines[0]) && (lines.length === 1 || /^Hint: \S/.test(lines[1]))
  if (!ok) throw new Error(`expected "Error: ..." (+ "Hint: ...") on stderr, got ${where}`)
  return lines[0].slice('Error: '.length)
}

/** A `--json` failure: `{"error":{"code","message"}}` on stdout with the given exit code. */
export function expectJsonError(result: CliResult, exit: number, code?: string): {code: string; message: string} {
  const where = `exit ${result.status}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`
  if (result.status !== exit) throw new Error(`expected exit ${exit}, got ${where}`)
  if (/\n\s+at .+:\d+:\d+\)?$/m.test(result.stderr)) throw new Error(`stack trace on stderr: ${where}`)
  const body = parseJson<{error?: {code?: unknown; message?: unknown}}>(result)
  const error = body.error
  if (!error || typeof error.code !== 'string' || typeof error.message !== 'string' || error.message === '') {
    throw new Error(`expected {"error":{"code","message"}}, got ${where}`)
  }
  if (Object.keys(body).length !== 1) throw new Error(`expected only "error" at the top level, got ${where}`)
  if (code !== undefined && error.code !== code) throw new Error(`expected error code ${code}, got ${error.code}: ${where}`)
  return {code: error.code, message: error.message}
}

/** The stable error codes of SPEC §0. */
export const ERROR_CODES = [
  'invalid_request', 'policy_violation', 'capability_not_found', 'credential_not_found', 'credential_ambiguous', 'secret_not_found',
  'secret_not_accessible', 'vault_locked', 'vault_unavailable', 'vault_tampered', 'rate_limited', 'body_too_large', 'auth_failed',
  'oauth_refresh_failed', 'upstream_unreachable', 'upstream_timeout', 'token_invalid', 'plugin_untrusted', 'conflict', 'not_found',
]

/** SPEC §15 credential object: `{id, provider, auth: {type, ...}, hosts, secretRefs, workspaceId, groupId}`. */
export function assertCredentialShape(credential: any): void {
  const text = JSON.stringify(credential)
  for (const field of ['id', 'provider', 'auth', 'hosts', 'secretRefs', 'workspaceId', 'groupId']) {
    if (!(field in (credential ?? {}))) throw new Error(`credential lacks ${field}: ${text}`)
  }
  const ok =
    typeof credential.id === 'string' &&
    typeof credential.provider === 'string' &&
    typeof credential.auth?.type === 'string' &&
    Array.isArray(credential.hosts) &&
    credential.hosts.every((h: unknown) => typeof h === 'string') &&
    typeof credential.secretRefs === 'object' &&
    credential.secretRefs !== null &&
    Object.values(credential.secretRefs).every((r) => typeof r === 'string' && /^vault:secret:[0-9a-f-]{36}$/.test(r)) &&
    (credential.workspaceId === null || typeof credential.workspaceId === 'string') &&
    (credential.groupId === null || typeof credential.groupId === 'string')
  if (!ok) throw new Error(`credential fields have the wrong types: ${text}`)
}

// ---- Helpers for the broker end-to-end tests (test/e2e/broker-*.test.ts) ----

/** Text of every file under the vault's audit/ folder (empty when there is none). */
export function auditFilesText(tv: TempVault): string {
  const dir = path.join(tv.root, 'audit')
  if (!fs.existsSync(dir)) return ''
  return fs.readdirSync(dir).map((name) => fs.readFileSync(path.join(dir, name), 'latin1')).join('\n')
}

/** Every audit event of the vault, parsed, oldest day first. */
export function auditEvents(tv: TempVault): any[] {
  return auditFilesText(tv).split('\n').filter((l) => l.trim().startsWith('{')).map((l) => JSON.parse(l))
}

/** Map `items` through `fn` with at most `limit` calls in flight; results keep the input order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await fn(items[index], index)
    }
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
  return results
}

/** Throw when any of `secrets` occurs in any of the named texts (also URL-encoded, RFC 3986-encoded, JSON-escaped and base64). */
export function assertNoSecrets(texts: Record<string, string>, secrets: string[]): void {
  for (const secret of secrets) {
    const rfc3986 = encodeURIComponent(secret).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
    const spellings = [...new Set([secret, encodeURIComponent(secret), rfc3986, JSON.stringify(secret).slice(1, -1), Buffer.from(secret).toString('base64')])]
    for (const [where, text] of Object.entries(texts)) {
      for (const spelling of spellings) {
        if (text.includes(spelling)) throw new Error(`secret ${JSON.stringify(secret.slice(0, 6))}... found in ${where}`)
      }
    }
  }
}

// ---- Helpers for the daemon end-to-end tests (test/e2e/daemon*.test.ts) ----

/** Whether a process exists and is not a zombie (Linux /proc). */
export function processAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3))
  } catch {
    return false
  }
}

/** Pids of live aivaultd processes whose command line names a path under `base` (their socket). */
export function daemonPidsUnder(base: string): number[] {
  const pids: number[] = []
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let args: string[]
    try {
      args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')
    } catch {
      continue
    }
    if (args.some((a) => a.endsWith('aivaultd.js')) && args.some((a) => a.startsWith(base + path.sep)) && processAlive(Number(entry))) pids.push(Number(entry))
  }
  return pids
}

/** Wait until `pid` is gone (or a zombie); false when it is still alive after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (processAlive(pid)) {
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 25))
  }
  return true
}

/** SIGKILL every aivaultd started for `base` (the safety net after `daemon stop`); returns their pids. */
export async function killDaemonsUnder(base: string): Promise<number[]> {
  const pids = daemonPidsUnder(base)
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      /* already gone */
    }
  }
  await Promise.all(pids.map((pid) => waitForExit(pid, 2000)))
  return pids
}

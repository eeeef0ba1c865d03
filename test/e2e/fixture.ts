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
    const env: NodeJS.ProcessEnv = {PATH: process.env.PATH, HOME: this.home, AIVAULT_DIR: this.root, AIVAULT_KEYS_DIR: this.keysDir, NO_COLOR: '1', AIVAULTD_AUTOSTART: '0'}
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

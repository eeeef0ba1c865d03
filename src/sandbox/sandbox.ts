import {spawn} from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {demoVaultEnv, startDemoUpstream} from '../demo/demo-upstream'
import {AivaultError} from '../errors'
import {packageRoot} from '../package-root'
import {loadRegistry} from '../plugins/runtime'
import {catalogOf} from '../registry/vault-catalog'
import type {ServeAddress} from '../server/serve-address'
import {mintToken} from '../server/proxy-tokens'
import {initVault} from '../vault/init'
import {GLOBAL_SCOPE} from '../vault/scope'
import {createSecret} from '../vault/secrets-service'
import {Vault} from '../vault/vault'

/** What `aivault sandbox --json` prints once everything is ready. */
export interface SandboxReady {
  serve: ServeAddress
  /** OPENAI_BASE_URL and OPENAI_API_KEY (a proxy token) for the official SDKs. */
  env: Record<string, string>
  token: {id: string; expiresAt: string; capabilities: string[]}
  upstream: {host: string; address: string}
  vault: string
}

const CAPABILITIES = ['openai/chat-completions', 'openai/models']
const TOKEN_TTL_MS = 12 * 60 * 60 * 1000

/**
 * `aivault sandbox`: the demo's offline HTTPS API (answering as api.openai.com), a throwaway
 * `--testing` vault holding a fake OPENAI_API_KEY, `aivault serve` in front of them (a child
 * process; the test overrides are set for it alone) and a proxy token, until SIGINT or SIGTERM.
 * Then the child is stopped and the temporary folder removed.
 */
export async function runSandbox(options: {port: number; ready: (info: SandboxReady) => void}): Promise<void> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-sandbox-'))
  let stopRequested: () => void = () => {}
  const stopped = new Promise<void>((resolve) => (stopRequested = resolve))
  process.once('SIGINT', stopRequested)
  process.once('SIGTERM', stopRequested)
  const upstream = await startDemoUpstream()
  let stopServe = async () => {}
  try {
    const env: NodeJS.ProcessEnv = {...demoVaultEnv(base, upstream), AIVAULTD_DISABLE: '1'}
    const vault = Vault.fromEnv(env)
    await initVault(vault, {provider: 'file', testing: true})
    const fakeKey = `sk-sandbox-${crypto.randomBytes(18).toString('base64url')}`
    await createSecret(vault, catalogOf(loadRegistry()), {name: 'OPENAI_API_KEY', value: Buffer.from(fakeKey), scope: GLOBAL_SCOPE, aliases: []})
    const {token, record} = await mintToken(vault, {capabilities: CAPABILITIES, credential: null, workspaceId: null, groupId: null, consumer: 'sandbox', ttlMs: TOKEN_TTL_MS})

    const serve = await startServe(env, options.port, base)
    stopServe = serve.stop
    options.ready({
      serve: serve.address,
      env: {OPENAI_BASE_URL: `${serve.address.url}/v/openai/v1`, OPENAI_API_KEY: token},
      token: {id: record.id, expiresAt: record.expiresAt, capabilities: record.capabilities},
      upstream: {host: 'api.openai.com', address: `127.0.0.1:${upstream.port}`},
      vault: vault.paths.root,
    })
    const ended = await Promise.race([stopped.then(() => undefined), serve.exited.then((code) => ({code}))])
    // (Ctrl-C in a terminal reaches serve too: it then stops with exit code 0.)
    if (ended && ended.code !== 0) throw new AivaultError('invalid_request', `aivault serve stopped on its own (exit ${ended.code})`, {hint: 'its error is above'})
  } finally {
    process.off('SIGINT', stopRequested)
    process.off('SIGTERM', stopRequested)
    await stopServe()
    await upstream.close()
    fs.rmSync(base, {recursive: true, force: true})
  }
}

/** `aivault serve --port P --json` in the sandbox's environment, once it listens. */
function startServe(env: NodeJS.ProcessEnv, port: number, cwd: string): Promise<{address: ServeAddress; exited: Promise<number | null>; stop: () => Promise<void>}> {
  const child = spawn(process.execPath, [path.join(packageRoot(), 'bin', 'run.js'), 'serve', '--port', String(port), '--json'], {env, cwd, stdio: ['ignore', 'pipe', 'pipe']})
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
  }
  let errors = ''
  // serve's own stderr (its listening line aside) is the sandbox's.
  child.stderr.on('data', (d: Buffer) => {
    const text = d.toString('utf8').replace(/^aivault serve listening on .*\n/m, '')
    errors += text
    if (text) process.stderr.write(text)
  })
  return new Promise((resolve, reject) => {
    let out = ''
    const onData = (d: Buffer) => {
      out += d.toString('utf8')
      const line = out.split('\n').find((l) => l.startsWith('{'))
      if (line === undefined || !out.includes('\n')) return
      child.stdout.off('data', onData)
      child.stdout.resume()
      resolve({address: JSON.parse(line) as ServeAddress, exited, stop})
    }
    child.stdout.on('data', onData)
    void exited.then((code) => reject(new AivaultError('invalid_request', `aivault serve exited (${code}) before it listened`, {hint: errors.trim() || undefined})))
  })
}

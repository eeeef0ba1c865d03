/**
 * The first hour (issue 16, items 1-4 and 15): `aivault sandbox` from nothing to an official
 * OpenAI SDK call (streaming too), `serve --json` and its run/serve.json, `env --serve` reading
 * it, the demo's closing command and audit counts, and both official SDKs showing a refusal's
 * message. Real processes throughout; the sandbox's and demo's upstreams are their own.
 */
import Anthropic from '@anthropic-ai/sdk'
import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import * as assert from 'node:assert/strict'
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import OpenAI from 'openai'

import {CLI, REPO_ROOT, TempVault, processAlive} from './fixture'
import {mint} from './serve-helpers'

interface Running<T> {
  proc: ChildProcess
  ready: T
  stderr(): string
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>
}

/** Spawn the CLI and wait for the first line it prints on stdout, parsed as JSON. */
function spawnJson<T>(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Running<T>> {
  const proc = spawn(process.execPath, [CLI, ...args], {env, cwd, stdio: ['ignore', 'pipe', 'pipe']})
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  let out = ''
  let err = ''
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')))
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM')
    return exited
  }
  return new Promise((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString('utf8')
      const end = out.indexOf('\n')
      if (end !== -1) resolve({proc, ready: JSON.parse(out.slice(0, end)) as T, stderr: () => err, stop})
    })
    void exited.then((code) => reject(new Error(`aivault ${args.join(' ')} exited ${code} before it was ready:\n${out}\n${err}`)))
  })
}

describe('e2e: getting started (sandbox, serve --json, env --serve, demo, SDK errors)', function () {
  this.timeout(120_000)

  describe('aivault sandbox', () => {
    let tv: TempVault
    let sandbox: Running<any>
    let tmp: string

    before(async () => {
      tv = new TempVault()
      tmp = path.join(tv.base, 'tmp')
      fs.mkdirSync(tmp)
      // Nothing else set up: no vault, no AIVAULT_* variables, no upstream of the test's own.
      sandbox = await spawnJson(['sandbox', '--json'], {PATH: process.env.PATH, HOME: tv.home, TMPDIR: tmp, NO_COLOR: '1'}, tv.base)
    })
    after(async () => {
      await sandbox?.stop()
      tv.dispose()
    })

    it('prints the serve address, the SDK variables and a token, in a throwaway testing vault', () => {
      const {serve, env, token, vault} = sandbox.ready
      assert.match(serve.url, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.equal(env.OPENAI_BASE_URL, `${serve.url}/v/openai/v1`)
      assert.match(env.OPENAI_API_KEY, /^avp_/)
      assert.deepEqual(token.capabilities, ['openai/chat-completions', 'openai/models'])
      assert.ok(vault.startsWith(fs.realpathSync(tmp)) || vault.startsWith(tmp), vault)
      assert.equal(fs.existsSync(tv.root), false, 'no vault of the user is made')
    })

    it('the official openai SDK lists models and completes a chat, plain and streamed', async () => {
      const client = new OpenAI({baseURL: sandbox.ready.env.OPENAI_BASE_URL, apiKey: sandbox.ready.env.OPENAI_API_KEY, maxRetries: 0, timeout: 30_000})
      const models = await client.models.list()
      assert.deepEqual(models.data.map((m) => m.id), ['gpt-demo'])
      const completion = await client.chat.completions.create({model: 'gpt-demo', messages: [{role: 'user', content: 'Hello'}]})
      assert.equal(completion.choices[0].message.content, 'You asked: "Hello". I never saw your API key.')
      const stream = await client.chat.completions.create({model: 'gpt-demo', stream: true, messages: [{role: 'user', content: 'Stream it'}]})
      const pieces: string[] = []
      for await (const chunk of stream) pieces.push(chunk.choices[0]?.delta?.content ?? '')
      assert.ok(pieces.filter(Boolean).length > 1, `several chunks: ${JSON.stringify(pieces)}`)
      assert.equal(pieces.join(''), 'You asked: "Stream it". I never saw your API key.')
    })

    it('a capability the token does not cover is refused with the broker message in the SDK error', async () => {
      const client = new OpenAI({baseURL: sandbox.ready.env.OPENAI_BASE_URL, apiKey: sandbox.ready.env.OPENAI_API_KEY, maxRetries: 0, timeout: 30_000})
      await assert.rejects(client.embeddings.create({model: 'gpt-demo', input: 'x'}), (error: any) => {
        assert.equal(error.status, 403)
        assert.match(String(error.message), /does not cover openai\/embeddings/)
        return true
      })
    })

    it('an MCP client reaches the same tools at /mcp with the token', async () => {
      const transport = new StreamableHTTPClientTransport(new URL(`${sandbox.ready.serve.url}/mcp`), {requestInit: {headers: {authorization: `Bearer ${sandbox.ready.env.OPENAI_API_KEY}`}}})
      const client = new Client({name: 'getting-started', version: '1'})
      await client.connect(transport)
      try {
        const listed = (await client.callTool({name: 'list_capabilities', arguments: {}})) as any
        assert.deepEqual(listed.structuredContent.capabilities.map((c: any) => c.id), ['openai/chat-completions', 'openai/models'])
        const chat = (await client.callTool({name: 'invoke', arguments: {capability: 'openai/chat-completions', body: {model: 'gpt-demo', messages: [{role: 'user', content: 'Hi'}]}}})) as any
        assert.equal(chat.structuredContent.status, 200, JSON.stringify(chat))
        assert.match(chat.structuredContent.json.choices[0].message.content, /You asked: "Hi"/)
        assert.doesNotMatch(JSON.stringify(chat), /sk-sandbox-/)
      } finally {
        await client.close()
      }
    })

    it('stops on SIGTERM and removes everything: its folder and its serve process', async () => {
      const servePid = sandbox.ready.serve.pid
      assert.equal(processAlive(servePid), true)
      assert.notDeepEqual(fs.readdirSync(tmp), [])
      assert.equal(await sandbox.stop(), 0, sandbox.stderr())
      assert.deepEqual(fs.readdirSync(tmp), [], 'the temporary folder is removed')
      assert.equal(processAlive(servePid), false, 'serve is stopped')
      assert.doesNotMatch(sandbox.stderr(), /sk-sandbox-/)
    })

    it('prints the lines to try without --json', async () => {
      const child = spawn(process.execPath, [CLI, 'sandbox'], {env: {PATH: process.env.PATH, HOME: tv.home, TMPDIR: tmp, NO_COLOR: '1'}, cwd: tv.base})
      let out = ''
      await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => (out += d) && out.includes('Ctrl-C') && resolve()))
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
      child.kill('SIGINT')
      assert.equal(await exited, 0)
      assert.match(out, /export OPENAI_BASE_URL='http:\/\/127\.0\.0\.1:\d+\/v\/openai\/v1'/)
      assert.match(out, /export OPENAI_API_KEY='avp_[A-Za-z0-9_-]+'/)
      assert.match(out, /curl -sS "\$OPENAI_BASE_URL\/chat\/completions"/)
      assert.match(out, /node -e '.*require\("openai"\)/)
      assert.match(out, /http:\/\/127\.0\.0\.1:\d+\/mcp with the header/)
      assert.match(out, /Sandbox stopped/)
      assert.deepEqual(fs.readdirSync(tmp), [])
    })
  })

  describe('serve --json, run/serve.json and env --serve', () => {
    let tv: TempVault
    before(() => {
      tv = new TempVault()
      tv.ok(['init'])
      // The workspace's credential first: the global one must still be chosen.
      tv.createSecret('OPENAI_API_KEY', 'sk-getting-started-workspace', ['--scope', 'workspace', '--workspace-id', 'aaa'])
      tv.createSecret('OPENAI_API_KEY', 'sk-getting-started-global')
      tv.createSecret('ANTHROPIC_API_KEY', 'sk-ant-getting-started')
    })
    after(() => tv.dispose())

    const addressFile = () => path.join(tv.root, 'run', 'serve.json')

    it('env --serve without a running serve uses 127.0.0.1:8787 and the global credential', () => {
      assert.equal(fs.existsSync(addressFile()), false)
      const out = tv.json(['env', '--serve'])
      assert.equal(out.base, 'http://127.0.0.1:8787')
      assert.equal(out.variables.OPENAI_BASE_URL, 'http://127.0.0.1:8787/v/openai/v1')
      assert.equal(out.variables.ANTHROPIC_BASE_URL, 'http://127.0.0.1:8787/v/anthropic')
    })

    it('serve --json prints {url, host, port, pid} once listening, records it under run/, and removes it on exit', async () => {
      const served = await spawnJson<any>(['serve', '--port', '0', '--json'], tv.env, tv.base)
      try {
        assert.deepEqual(Object.keys(served.ready).sort(), ['host', 'pid', 'port', 'url'])
        assert.equal(served.ready.host, '127.0.0.1')
        assert.equal(served.ready.pid, served.proc.pid)
        assert.ok(served.ready.port > 0)
        assert.equal(served.ready.url, `http://127.0.0.1:${served.ready.port}`)
        const health = await fetch(`${served.ready.url}/aivault/health`)
        assert.equal(health.status, 200)
        assert.deepEqual(JSON.parse(fs.readFileSync(addressFile(), 'utf8')), served.ready)

        const env = tv.json(['env', '--serve'])
        assert.equal(env.base, served.ready.url, 'env --serve reads the running serve\'s address')
        assert.equal(env.variables.OPENAI_BASE_URL, `${served.ready.url}/v/openai/v1`)
        assert.equal(tv.json(['env', '--serve', '--port', '9999']).base, 'http://127.0.0.1:9999', 'an explicit --port wins')

        // A token for openai only: no Anthropic variables, the token as OpenAI's key.
        const token = await mint(tv, ['openai/models'])
        const scoped = tv.json(['env', '--serve', '--token', token.token])
        assert.deepEqual(scoped.variables, {OPENAI_BASE_URL: `${served.ready.url}/v/openai/v1`, OPENAI_API_KEY: token.token})
        const client = new OpenAI({baseURL: scoped.variables.OPENAI_BASE_URL, apiKey: scoped.variables.OPENAI_API_KEY, maxRetries: 0, timeout: 30_000})
        await assert.rejects(client.chat.completions.create({model: 'm', messages: [{role: 'user', content: 'x'}]}), /does not cover openai\/chat-completions/)
      } finally {
        assert.equal(await served.stop(), 0, served.stderr())
      }
      assert.equal(fs.existsSync(addressFile()), false, 'run/serve.json is removed when serve stops')
      assert.equal(tv.json(['env', '--serve']).base, 'http://127.0.0.1:8787')
    })

    it('env --serve ignores the address a killed serve left behind', async () => {
      const served = await spawnJson<any>(['serve', '--port', '0', '--json'], tv.env, tv.base)
      served.proc.kill('SIGKILL')
      await new Promise((resolve) => served.proc.once('exit', resolve))
      assert.equal(fs.existsSync(addressFile()), true)
      assert.equal(tv.json(['env', '--serve']).base, 'http://127.0.0.1:8787')
      fs.rmSync(addressFile())
    })

    it('env --serve with an unknown token is token_invalid and never echoes it', () => {
      const bogus = 'avp_' + 'x'.repeat(43)
      const result = tv.run(['env', '--serve', '--token', bogus])
      assert.equal(result.status, 1)
      assert.match(result.stderr, /missing, unknown, expired or revoked proxy token/)
      assert.doesNotMatch(result.stdout + result.stderr, new RegExp(bogus))
    })
  })

  describe('SDK exceptions carry the broker message (problem documents with error.message)', () => {
    let tv: TempVault
    let served: Running<any>
    before(async () => {
      tv = new TempVault()
      tv.ok(['init'])
      tv.createSecret('OPENAI_API_KEY', 'sk-sdk-errors-openai')
      tv.createSecret('ANTHROPIC_API_KEY', 'sk-ant-sdk-errors')
      served = await spawnJson<any>(['serve', '--port', '0', '--json'], tv.env, tv.base)
    })
    after(async () => {
      await served?.stop()
      tv.dispose()
    })

    it('anthropic SDK: a token that does not cover anthropic/messages (403) and an unknown token (401)', async () => {
      const models = await mint(tv, ['openai/models'])
      const client = (apiKey: string) => new Anthropic({baseURL: `${served.ready.url}/v/anthropic`, apiKey, maxRetries: 0, timeout: 30_000})
      const ask = (apiKey: string) => client(apiKey).messages.create({model: 'claude-x', max_tokens: 8, messages: [{role: 'user', content: 'hi'}]})
      await assert.rejects(ask(models.token), (error: any) => {
        assert.equal(error.status, 403)
        assert.match(String(error.message), /does not cover anthropic\/messages/)
        return true
      })
      await assert.rejects(ask('avp_' + 'y'.repeat(43)), (error: any) => {
        assert.equal(error.status, 401)
        assert.match(String(error.message), /missing, unknown, expired or revoked proxy token/)
        return true
      })
    })

    it('openai SDK: an unknown token (401) shows the broker message', async () => {
      const client = new OpenAI({baseURL: `${served.ready.url}/v/openai/v1`, apiKey: 'avp_' + 'z'.repeat(43), maxRetries: 0, timeout: 30_000})
      await assert.rejects(client.models.list(), (error: any) => {
        assert.equal(error.status, 401)
        assert.match(String(error.message), /missing, unknown, expired or revoked proxy token/)
        return true
      })
    })
  })

  describe('aivault demo', () => {
    let tv: TempVault
    before(() => (tv = new TempVault()))
    after(() => tv.dispose())

    it('counts its calls and their audit events the same: 5 calls, 1 answered, 4 refused', () => {
      const out = tv.json(['demo'])
      assert.deepEqual(out.audited, {calls: 5, events: 5, answered: 1, refused: out.refused.length})
      assert.equal(out.refused.length, 4)
    })

    it('its closing command runs as printed after the README set-up (no aivault on PATH)', () => {
      // PATH holds node only, so the demo must print ./bin/run.js (run from the clone).
      const nodeOnly = path.join(tv.base, 'node-bin')
      fs.mkdirSync(nodeOnly)
      fs.symlinkSync(process.execPath, path.join(nodeOnly, 'node'))
      const env = {...tv.env, PATH: `${nodeOnly}:/usr/bin:/bin`}
      const demo = tv.run(['demo'], {cwd: REPO_ROOT, env})
      assert.equal(demo.status, 0, demo.stderr)
      const lines = demo.stdout.trimEnd().split('\n')
      const at = lines.findIndex((l) => l.startsWith('Done.'))
      const command = lines[at + 1].trim()
      assert.match(command, /^printf %s "\$OPENAI_API_KEY" \| \.\/bin\/run\.js secrets create/)
      assert.match(lines[at + 2], /npm link/)
      const ran = spawnSync('/bin/sh', ['-c', command], {cwd: REPO_ROOT, env: {...env, OPENAI_API_KEY: 'sk-closing-command-0123456789'}, encoding: 'utf8'})
      assert.equal(ran.status, 0, ran.stderr)
      assert.match(ran.stdout, /Secret created: OPENAI_API_KEY \(pinned to provider: openai\)/)
      assert.equal(tv.json(['secrets', 'list']).secrets.length, 1)
    })
  })
})

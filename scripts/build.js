#!/usr/bin/env node
'use strict'
/**
 * npm run build: compile TypeScript to dist/, build the registry (dist/registry.json), and write
 * oclif.manifest.json so oclif never scans command files at run time.
 */
const {execFileSync} = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
function run(file, args) {
  try {
    execFileSync(process.execPath, [file, ...args], {cwd: root, stdio: 'inherit'})
  } catch (error) {
    console.error(`build failed: ${path.relative(root, file)} exited with ${error.status}`)
    process.exit(1)
  }
}

fs.rmSync(path.join(root, 'dist'), {recursive: true, force: true})
fs.rmSync(path.join(root, 'oclif.manifest.json'), {force: true})
run(require.resolve('typescript/bin/tsc'), ['-p', 'tsconfig.json'])
run(path.join(__dirname, 'build-registry.js'), [])

async function writeManifest() {
  const commands = await require('./bundle').bundle()
  console.log(`dist/aivault.js: ${commands} commands bundled`)
  const {Plugin} = require('@oclif/core')
  const plugin = new Plugin({root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true, isRoot: true})
  await plugin.load()
  const manifest = plugin.manifest
  fs.writeFileSync(path.join(root, 'oclif.manifest.json'), JSON.stringify(manifest, null, 2) + '\n')
  console.log(`oclif.manifest.json: ${Object.keys(manifest.commands).length} commands`)
  await writePluginManifests(Plugin)
  writeCodeCache()
}

/**
 * The first-party plugins' manifests (plugins/<name>/oclif.manifest.json, as `oclif manifest`
 * writes before publishing): without one, oclif loads every command of a plugin, and a linked
 * one's TypeScript set-up, on every start of aivault, whatever command runs.
 */
async function writePluginManifests(Plugin) {
  const dir = path.join(root, 'plugins')
  for (const name of fs.readdirSync(dir).sort()) {
    const pluginRoot = path.join(dir, name)
    const pjson = JSON.parse(fs.readFileSync(path.join(pluginRoot, 'package.json'), 'utf8'))
    fs.rmSync(path.join(pluginRoot, 'oclif.manifest.json'), {force: true})
    if (!pjson.oclif || !pjson.oclif.commands) continue
    const plugin = new Plugin({root: pluginRoot, type: 'core', ignoreManifest: true, errorOnManifestCreate: true})
    await plugin.load()
    fs.writeFileSync(path.join(pluginRoot, 'oclif.manifest.json'), JSON.stringify(plugin.manifest, null, 2) + '\n')
    console.log(`plugins/${name}/oclif.manifest.json: ${Object.keys(plugin.manifest.commands).length} commands`)
  }
}

/**
 * Run representative commands in a throwaway vault to write the V8 code caches: creating a
 * secret writes libsodium's (dist/*.code-cache), then a listing writes the bundle's
 * (dist/aivault.js.cache) over the one the first run left.
 */
function writeCodeCache() {
  const os = require('node:os')
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-build-'))
  const cli = (args, extra = {}) => {
    const env = {...process.env, HOME: temp, AIVAULT_DIR: path.join(temp, 'vault'), AIVAULT_KEYS_DIR: path.join(temp, 'keys'), ...extra}
    execFileSync(process.execPath, [path.join(root, 'bin', 'run.js'), ...args], {env, input: 'code-cache-value', stdio: ['pipe', 'ignore', 'ignore']})
  }
  try {
    cli(['init', '--testing'])
    cli(['secrets', 'create', '--name', 'CODE_CACHE_SAMPLE', '--value-stdin'], {AIVAULT_WRITE_CODE_CACHE: '1'})
    // The MCP SDK's bundle (dist/mcp-sdk.js.cache): `aivault mcp` answers initialize and tools/list.
    execFileSync(process.execPath, [path.join(root, 'bin', 'run.js'), 'mcp'], {
      env: {...process.env, HOME: temp, AIVAULT_DIR: path.join(temp, 'vault'), AIVAULT_KEYS_DIR: path.join(temp, 'keys'), AIVAULTD_DISABLE: '1', AIVAULT_WRITE_CODE_CACHE: '1'},
      input: mcpSample(),
      stdio: ['pipe', 'ignore', 'ignore'],
    })
    // Through oclif (a flag keeps it off the fast path), for the bundle's cache...
    cli(['secrets', 'list', '--scope', 'global'], {AIVAULT_WRITE_CODE_CACHE: '1'})
    // ...and the fast path's (dist/fast.js.cache), with both of its commands in one process.
    const fast = path.join(root, 'dist', 'fast.js')
    const script = `const f = require(${JSON.stringify(path.join(root, 'dist', 'code-cache.js'))}).requireWithCodeCache(${JSON.stringify(fast)}, ${JSON.stringify(fast + '.cache')}); f.runFast(['capability', 'list']); f.runFast(['secrets', 'list'])`
    execFileSync(process.execPath, ['-e', script], {env: {...process.env, HOME: temp, AIVAULT_DIR: path.join(temp, 'vault'), AIVAULT_KEYS_DIR: path.join(temp, 'keys'), AIVAULT_WRITE_CODE_CACHE: '1'}, stdio: 'ignore'})
  } finally {
    fs.rmSync(temp, {recursive: true, force: true})
  }
}

/** An MCP client's first messages, one JSON-RPC message per line. */
function mcpSample() {
  const initialize = {protocolVersion: '2025-06-18', capabilities: {}, clientInfo: {name: 'aivault-build', version: '1'}}
  return [
    {jsonrpc: '2.0', id: 1, method: 'initialize', params: initialize},
    {jsonrpc: '2.0', method: 'notifications/initialized'},
    {jsonrpc: '2.0', id: 2, method: 'tools/list'},
    {jsonrpc: '2.0', id: 3, method: 'tools/call', params: {name: 'list_capabilities', arguments: {}}},
  ].map((m) => JSON.stringify(m) + '\n').join('')
}

writeManifest().catch((error) => {
  console.error(error)
  process.exit(1)
})

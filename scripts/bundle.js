'use strict'
/**
 * Bundle the CLI (oclif core and every command) into dist/aivault.js, so start-up reads one
 * file instead of resolving hundreds of modules. Heavy libraries that only some paths need
 * (libsodium, yaml, ajv) stay external and are still loaded lazily from node_modules.
 */
const fs = require('node:fs')
const path = require('node:path')
const {bundlePlugins, routeBundleImports} = require('./bundle-patches')

const root = path.join(__dirname, '..')
const dist = path.join(root, 'dist')

function commandFiles(dir, prefix = []) {
  const out = []
  for (const entry of fs.readdirSync(dir, {withFileTypes: true}).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.isDirectory()) out.push(...commandFiles(path.join(dir, entry.name), [...prefix, entry.name]))
    else if (entry.name.endsWith('.js')) {
      const base = entry.name.slice(0, -3)
      const id = (base === 'index' ? prefix : [...prefix, base]).join(':')
      out.push({id, file: './' + path.relative(dist, path.join(dir, entry.name)).split(path.sep).join('/')})
    }
  }
  return out
}

/** Both bundles: CommonJS for Node 20, minified unless AIVAULT_BUNDLE_MINIFY=0 (to debug). */
const ESBUILD_OPTIONS = {bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning', minify: process.env.AIVAULT_BUNDLE_MINIFY !== '0'}

/**
 * Commands of oclif's own plugins, bundled as aivault's: as oclif plugins, every start read
 * their package.json and manifests (~5% of a command's instructions) for two commands few runs
 * use. (Their hooks refresh autocomplete's cache after `plugins install`; aivault's own install
 * does not fire them, so none is lost.)
 */
const LIBRARY_COMMANDS = {
  help: '@oclif/plugin-help/lib/commands/help.js',
  autocomplete: '@oclif/plugin-autocomplete/lib/commands/autocomplete/index.js',
  'autocomplete:create': '@oclif/plugin-autocomplete/lib/commands/autocomplete/create.js',
  'autocomplete:script': '@oclif/plugin-autocomplete/lib/commands/autocomplete/script.js',
}

function libraryCommands() {
  // By file path: the packages' exports maps name only their index files.
  return Object.entries(LIBRARY_COMMANDS).map(([id, file]) => ({id, file: path.join(root, 'node_modules', file)}))
}

async function bundle() {
  const commands = [...commandFiles(path.join(dist, 'commands')), ...libraryCommands()]
  const entry = path.join(dist, 'bundle-entry.js')
  const lines = [
    "'use strict'",
    "const core = require('@oclif/core')",
    // Plugins run as published JavaScript: oclif never registers ts-node or tsx for a linked
    // plugin (it cost ~40 ms per start and warned about every linked ES module).
    'core.settings.enableAutoTranspile = false',
    'exports.execute = core.execute',
    'exports.handle = core.handle',
    // Getters: with a manifest, oclif touches only the command it runs, so only that
    // command's modules are evaluated.
    'exports.COMMANDS = {}',
    // Hooks, loaded only when their event fires (package.json oclif.hooks names them).
    "Object.defineProperty(exports, 'COMMAND_NOT_FOUND', {enumerable: true, get: () => require('./hooks/command-not-found.js').default})",
    ...commands.map((c) => `Object.defineProperty(exports.COMMANDS, ${JSON.stringify(c.id)}, {enumerable: true, get: () => require(${JSON.stringify(c.file)}).default})`),
  ]
  fs.writeFileSync(entry, lines.join('\n') + '\n')
  const patches = bundlePlugins()
  await require('esbuild').build({
    ...ESBUILD_OPTIONS,
    entryPoints: [entry],
    outfile: path.join(dist, 'aivault.js'),
    // No keepNames: it wraps every function created at run time in a defineProperty call,
    // which cost serve ~3% of its CPU; nothing here reads a minified class or function name.
    // The patches to oclif's code (scripts/bundle-patches.js), each checked to still apply.
    plugins: patches.plugins,
    // Our own runtime dependencies stay in node_modules (loaded lazily, only where needed);
    // only oclif and its dependencies are bundled.
    external: ['typescript', 'tsx', 'ts-node', ...runtimeDependencies().flatMap((d) => [d, `${d}/*`])],
  })
  fs.rmSync(entry)
  patches.check()
  await bundleMcpSdk()
  await bundleFastPath()
  const outfile = path.join(dist, 'aivault.js')
  fs.writeFileSync(outfile, routeBundleImports(fs.readFileSync(outfile, 'utf8')))
  return commands.length
}

/**
 * The MCP SDK and zod in one file (dist/mcp-sdk.js, loaded by src/mcp/sdk.ts through a code
 * cache): loaded module by module they cost `aivault mcp` ~100 ms before its first answer.
 * Built from the TypeScript entry, so the SDK and zod resolve to their ES modules and esbuild
 * drops what the server never uses (zod's locales, the client): 277 KB instead of 909 KB, and
 * V8 reads its code cache in proportion. The SDK's default ajv validator is stubbed out
 * (scripts/mcp-ajv-stub.js): the server passes its own, and ajv was another 130 KB.
 */
async function bundleMcpSdk() {
  let stubbed = 0
  const stubAjv = {
    name: 'mcp-sdk-without-ajv',
    setup(build) {
      build.onResolve({filter: /^\.\.\/validation\/ajv-provider\.js$/}, (args) => {
        if (!/[\\/]@modelcontextprotocol[\\/]sdk[\\/]dist[\\/]esm[\\/]server[\\/]index\.js$/.test(args.importer)) return undefined
        stubbed++
        return {path: path.join(__dirname, 'mcp-ajv-stub.js')}
      })
    },
  }
  await require('esbuild').build({...ESBUILD_OPTIONS, entryPoints: [path.join(root, 'src', 'mcp', 'sdk-entry.ts')], outfile: path.join(dist, 'mcp-sdk.js'), plugins: [stubAjv]})
  if (stubbed !== 1) throw new Error(`bundle patch "mcp-sdk-without-ajv": expected the MCP SDK's server to import validation/ajv-provider.js once, found ${stubbed}; review scripts/bundle.js`)
}

/**
 * The fast paths without oclif, each a bundle of its own loaded by bin/run.js through its code
 * cache: `secrets list` and `capability list` (src/cli/fast/fast-path.ts, dist/fast.js) and
 * `mcp` (src/cli/fast/mcp-fast.ts, dist/mcp.js).
 */
async function bundleFastPath() {
  const external = runtimeDependencies().flatMap((d) => [d, `${d}/*`])
  for (const [entry, out] of [['fast-path.js', 'fast.js'], ['mcp-fast.js', 'mcp.js']]) {
    await require('esbuild').build({...ESBUILD_OPTIONS, entryPoints: [path.join(dist, 'cli', 'fast', entry)], outfile: path.join(dist, out), external})
  }
}

function runtimeDependencies() {
  const {dependencies} = require(path.join(root, 'package.json'))
  // debug is resolved by the debug-shim patch, which keeps the shim's own require external.
  return Object.keys(dependencies).filter((name) => name !== '@oclif/core' && name !== 'debug')
}

module.exports = {bundle}

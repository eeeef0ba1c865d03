'use strict'
/**
 * Bundle the CLI (oclif core and every command) into dist/aivault.js, so start-up reads one
 * file instead of resolving hundreds of modules. Heavy libraries that only some paths need
 * (libsodium, yaml, ajv) stay external and are still loaded lazily from node_modules.
 */
const fs = require('node:fs')
const path = require('node:path')

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

async function bundle() {
  const commands = commandFiles(path.join(dist, 'commands'))
  const entry = path.join(dist, 'bundle-entry.js')
  const lines = [
    "'use strict'",
    "const core = require('@oclif/core')",
    'exports.execute = core.execute',
    'exports.handle = core.handle',
    // Getters: with a manifest, oclif touches only the command it runs, so only that
    // command's modules are evaluated.
    'exports.COMMANDS = {}',
    ...commands.map((c) => `Object.defineProperty(exports.COMMANDS, ${JSON.stringify(c.id)}, {enumerable: true, get: () => require(${JSON.stringify(c.file)}).default})`),
  ]
  fs.writeFileSync(entry, lines.join('\n') + '\n')
  await require('esbuild').build({
    entryPoints: [entry],
    outfile: path.join(dist, 'aivault.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
    minify: process.env.AIVAULT_BUNDLE_MINIFY !== '0',
    // No keepNames: it wraps every function created at run time in a defineProperty call,
    // which cost serve ~3% of its CPU; nothing here reads a minified class or function name.
    alias: {debug: path.join(__dirname, 'debug-shim.js')},
    plugins: [sortCommandsWithoutIcu],
    // Our own runtime dependencies stay in node_modules (loaded lazily, only where needed);
    // only oclif and its dependencies are bundled.
    external: ['debug', 'typescript', 'tsx', 'ts-node', ...runtimeDependencies().flatMap((d) => [d, `${d}/*`])],
  })
  fs.rmSync(entry)
  routeDynamicImports(path.join(dist, 'aivault.js'))
  return commands.length
}

/**
 * oclif sorts each plugin's commands with localeCompare on every start, and the first
 * localeCompare of a process initializes ICU's collator: ~10 ms, a sixth of a command's own
 * start-up. Command ids are lower-case words, digits, `-` and `:`, for which code-unit order is
 * the same; the bundle sorts that way. The build fails if oclif's line changes.
 */
const OCLIF_SORT = '.sort((a, b) => a.id.localeCompare(b.id))'
const sortCommandsWithoutIcu = {
  name: 'sort-commands-without-icu',
  setup(build) {
    build.onLoad({filter: /[\\/]@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/}, (args) => {
      const source = fs.readFileSync(args.path, 'utf8')
      if (!source.includes(OCLIF_SORT)) throw new Error(`${args.path} no longer sorts commands with ${OCLIF_SORT}: review sortCommandsWithoutIcu in scripts/bundle.js`)
      return {contents: source.replace(OCLIF_SORT, '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))'), loader: 'js'}
    })
  },
}

/**
 * bin/run.js compiles the bundle with vm.Script to use a V8 code cache, and code compiled that
 * way cannot run import() itself on Node 20. oclif import()s ESM plugins, so those calls go
 * to a function bin/run.js defines in its own (normally loaded) module.
 */
function routeDynamicImports(file) {
  const source = fs.readFileSync(file, 'utf8')
  const routed = source.replace(/\bawait import\(/g, 'await globalThis.__aivaultImport(')
  fs.writeFileSync(file, routed)
}

function runtimeDependencies() {
  const {dependencies} = require(path.join(root, 'package.json'))
  return Object.keys(dependencies).filter((name) => name !== '@oclif/core')
}

module.exports = {bundle}

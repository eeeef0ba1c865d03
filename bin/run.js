#!/usr/bin/env node
'use strict'
/**
 * The aivault entry point. Start-up is a feature, so:
 * - `--version` and `git textconv` (git's diff driver) answer without loading oclif, and so do
 *   `secrets list` and `capability list` (their own small bundle, dist/fast.js), and `mcp`
 *   (dist/mcp.js);
 * - everything else runs one esbuild bundle (oclif and every command, scripts/bundle.js),
 *   compiled with the V8 code cache the build wrote next to it (dist/aivault.js.cache).
 *   A missing or rejected cache only costs the compile time it would have saved.
 */
const path = require('node:path')

// Node 22.1 and later cache the compiled code of whatever plain require() loads (yaml, undici, a
// plugin's modules); Node 20 has no such call, and the bundles bring their own cache.
require('node:module').enableCompileCache?.()

const argv = process.argv.slice(2)
/** The commands src/cli/fast/fast-path.ts may answer (it checks the rest of the line). */
const FAST_COMMANDS = new Set(['secrets list', 'capability list'])
if (argv.length === 1 && argv[0] === '--version') {
  const {version} = require('../package.json')
  process.stdout.write(`aivault/${version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else if (argv.length === 3 && argv[0] === 'git' && argv[1] === 'textconv') {
  // git runs the textconv driver once per file it shows: no oclif, just the renderer.
  process.stdout.write(require('../dist/vault/git/record-text.js').textconvFile(argv[2]))
} else if (FAST_COMMANDS.has(`${argv[0]} ${argv[1]}`)) {
  // `secrets list` and `capability list` without oclif (src/cli/fast/fast-path.ts decides).
  if (!loadBundle(path.join(__dirname, '..', 'dist', 'fast.js')).runFast(argv)) runCli()
} else if (argv[0] === 'mcp') {
  // An agent host waits for the server's first answer: `mcp` starts without oclif (src/cli/fast/mcp-fast.ts).
  loadBundle(path.join(__dirname, '..', 'dist', 'mcp.js'))
    .runMcpFast(argv)
    .then((served) => served || runCli())
} else if (argv[0] === 'invoke') {
  // A warm aivaultd serves `invoke` without loading oclif; anything unusual falls back.
  require('../dist/cli/invoke/thin-invoke.js')
    .thinInvoke(argv)
    .then((handled) => handled || runCli())
} else {
  runCli()
}

function runCli() {
  // npm already checks the engines field; oclif's own semver check costs ~10 ms per start.
  process.env.OCLIF_DISABLE_ENGINE_WARNING = '1'
  const cli = loadBundle(path.join(__dirname, '..', 'dist', 'aivault.js'))
  delete process.env.OCLIF_DISABLE_ENGINE_WARNING
  cli.execute({dir: __dirname}).catch(cli.handle)
}

/** Load the bundle as a CommonJS module, through the code cache when there is one. */
function loadBundle(file) {
  // The bundle's import() calls are routed here (the route-dynamic-imports patch,
  // scripts/bundle-patches.js): vm-compiled code cannot import on Node 20.
  globalThis.__aivaultImport = (specifier) => import(specifier)
  // The build runs representative commands with AIVAULT_WRITE_CODE_CACHE=1 to write the cache.
  return require('../dist/code-cache.js').requireWithCodeCache(file, `${file}.cache`)
}

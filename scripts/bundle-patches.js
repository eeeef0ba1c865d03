'use strict'
/**
 * Every change the build makes to code aivault does not own, in one place. Each patch names the
 * dependency version it was written for and how many times it must apply; the build fails,
 * naming the patch, when it applies any other number of times (the dependency changed: review
 * the patch). When each can go is in docs/decisions/011-bundle-patches.md.
 */
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')

/** A patch's check failed: the build stops, naming the patch and what it was written for. */
class BundlePatchError extends Error {}

function installedVersion(name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')).version
  } catch {
    return 'not installed'
  }
}

function failPatch(patch, problem) {
  const dependency = patch.dependency ? ` (installed: ${patch.dependency}@${installedVersion(patch.dependency)})` : ''
  throw new BundlePatchError(
    `bundle patch "${patch.name}", written for ${patch.writtenFor}${dependency}: ${problem}; ` +
      'review it in scripts/bundle-patches.js (docs/decisions/011-bundle-patches.md)',
  )
}

/** Replace every `patch.find` (a global RegExp) in `source`, after checking the count. */
function applyPatch(patch, source) {
  const count = (source.match(patch.find) || []).length
  if (count !== patch.expected) failPatch(patch, `expected ${patch.expected} match(es) of ${patch.find}, found ${count}`)
  return source.replace(patch.find, patch.replace)
}

/**
 * oclif sorts each plugin's commands with localeCompare on every start, and the first
 * localeCompare of a process initializes ICU's collator: ~10 ms, a sixth of a command's own
 * start-up. Command ids are lower-case words, digits, `-` and `:`, for which code-unit order is
 * the same.
 */
const oclifSort = {
  name: 'oclif-sort-without-icu',
  dependency: '@oclif/core',
  writtenFor: '@oclif/core 4.14.0 (lib/config/plugin.js)',
  file: /[\\/]@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/,
  find: /\.sort\(\(a, b\) => a\.id\.localeCompare\(b\.id\)\)/g,
  replace: '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))',
  expected: 1,
}

/**
 * Three oclif modules require a Node built-in when they load and use it only on a rare path:
 * util/os.js (child_process, for a Windows shell check), performance.js (perf_hooks, with
 * DEBUG=perf) and parser/parse.js (readline, for a flag read from stdin). Loading the three
 * cost ~5% of a command's instructions; each becomes a proxy that requires it on first use.
 */
const lazyBuiltins = {
  name: 'oclif-lazy-builtins',
  dependency: '@oclif/core',
  writtenFor: '@oclif/core 4.14.0 (lib/util/os.js, lib/performance.js, lib/parser/parse.js)',
  file: /[\\/]@oclif[\\/]core[\\/]lib[\\/](util[\\/]os|performance|parser[\\/]parse)\.js$/,
  find: /^const (node_(?:child_process|perf_hooks|readline)_1) = require\("(node:[a-z_]+)"\);$/gm,
  replace: 'const $1 = new Proxy({}, {get: (_, key) => require("$2")[key]});',
  expected: 1,
  files: 3,
}

/**
 * oclif's config asks `getPlatform()` on every start, which loads wsl-utils (and with it
 * child_process and fs/promises) and reads /proc files to tell WSL from Linux. The answer only
 * ever differs in oclif's user-agent string, which aivault never prints (bin/run.js answers
 * --version itself); every branch oclif takes on the platform compares it with win32 or darwin.
 */
const platformWithoutWsl = {
  name: 'oclif-platform-without-wsl',
  dependency: '@oclif/core',
  writtenFor: '@oclif/core 4.14.0 (lib/util/os.js getPlatform)',
  file: /[\\/]@oclif[\\/]core[\\/]lib[\\/]util[\\/]os\.js$/,
  find: /return \(await import\('wsl-utils'\)\)\.isWsl \? 'wsl' : \(0, node_os_1\.platform\)\(\);/g,
  replace: 'return (0, node_os_1.platform)();',
  expected: 1,
}

/**
 * bin/run.js compiles the bundle with vm.Script to use a V8 code cache (src/code-cache.ts), and
 * code compiled that way cannot run import() itself on Node 20. oclif import()s ESM plugins
 * and ts-node/tsx hooks, so those calls go to globalThis.__aivaultImport, which bin/run.js
 * defines in its own normally loaded module.
 */
const routeDynamicImports = {
  name: 'route-dynamic-imports',
  dependency: '@oclif/core',
  writtenFor: '@oclif/core 4.14.0 bundled by esbuild 0.28 (lib/module-loader.js x3, lib/config/ts-path.js, lilconfig)',
  find: /\bawait import\(/g,
  replace: 'await globalThis.__aivaultImport(',
  expected: 5,
}

/**
 * A dynamic import() the routing missed (one not written `await import(`). The lookbehind skips
 * member calls (`x.import(`) and identifiers ending in `import`; `import()` with nothing inside
 * only occurs in strings (oclif's error message), never as code.
 */
const BARE_IMPORT = /(?<![\w$.])import\s*\((?!\))/g

function assertNoBareImport(source) {
  const left = source.match(BARE_IMPORT) || []
  if (left.length > 0) {
    failPatch(routeDynamicImports, `${left.length} import( call(s) left unrouted in the bundle, e.g. ${JSON.stringify(excerptAround(source, BARE_IMPORT))}`)
  }
}

function excerptAround(source, pattern) {
  const at = source.search(new RegExp(pattern.source))
  return source.slice(Math.max(0, at - 40), at + 40)
}

/** Route the bundle's dynamic imports and prove none is left; returns the routed source. */
function routeBundleImports(source) {
  const routed = applyPatch(routeDynamicImports, source)
  assertNoBareImport(routed)
  return routed
}

/**
 * oclif creates `debug` loggers at start-up and the real package costs ~13 ms to load, so the
 * bundle resolves `debug` to scripts/debug-shim.js, which loads the real (declared) package only
 * when DEBUG is set. The shim's own require('debug') stays external: it must reach the package,
 * not the shim again.
 */
const debugShim = {
  name: 'debug-shim',
  dependency: '@oclif/core',
  writtenFor: '@oclif/core 4.14.0 (lib/logger.js requires debug) and @oclif/plugin-autocomplete 3 (autocomplete/create.js)',
  shim: path.join(__dirname, 'debug-shim.js'),
  expected: 2,
}

/** The esbuild plugins the bundle is built with; call `check()` after the build. */
function bundlePlugins() {
  const shimmed = new Set()
  const lazyFiles = new Set()
  const plugins = [
    {
      name: oclifSort.name,
      setup(build) {
        build.onLoad({filter: oclifSort.file}, (args) => ({contents: applyPatch(oclifSort, fs.readFileSync(args.path, 'utf8')), loader: 'js'}))
      },
    },
    {
      name: lazyBuiltins.name,
      setup(build) {
        build.onLoad({filter: lazyBuiltins.file}, (args) => {
          lazyFiles.add(args.path)
          let source = applyPatch(lazyBuiltins, fs.readFileSync(args.path, 'utf8'))
          if (platformWithoutWsl.file.test(args.path)) source = applyPatch(platformWithoutWsl, source)
          return {contents: source, loader: 'js'}
        })
      },
    },
    {
      name: debugShim.name,
      setup(build) {
        build.onResolve({filter: /^debug$/}, (args) => {
          if (args.importer === debugShim.shim) return {path: 'debug', external: true}
          shimmed.add(args.importer)
          return {path: debugShim.shim}
        })
      },
    },
  ]
  const check = () => {
    assertDeclared('debug', debugShim)
    if (lazyFiles.size !== lazyBuiltins.files) failPatch(lazyBuiltins, `expected ${lazyBuiltins.files} files patched, found ${lazyFiles.size}`)
    if (shimmed.size !== debugShim.expected) failPatch(debugShim, `expected ${debugShim.expected} module(s) importing debug, found ${shimmed.size}`)
  }
  return {plugins, check}
}

/** What the bundle loads at run time from node_modules must be our own declared dependency. */
function assertDeclared(name, patch) {
  const {dependencies} = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
  if (!dependencies[name]) failPatch(patch, `the bundle loads "${name}" at run time but package.json does not declare it`)
}

module.exports = {BundlePatchError, applyPatch, assertNoBareImport, routeBundleImports, bundlePlugins, patches: {oclifSort, routeDynamicImports, debugShim}}

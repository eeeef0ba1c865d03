'use strict'
/**
 * Bundled in place of the `debug` package (the debug-shim patch, scripts/bundle-patches.js):
 * oclif creates debug loggers at start-up, and the real package costs ~13 ms to load. Without
 * DEBUG set they are no-ops; with DEBUG set, the real package (a declared dependency; this
 * require stays external) is loaded and used.
 */
if (process.env.DEBUG) {
  module.exports = require('debug')
} else {
  const noop = () => {}
  const create = (namespace) => Object.assign(() => {}, {enabled: false, namespace, log: noop, extend: (ns) => create(`${namespace}:${ns}`)})
  module.exports = Object.assign(create, {enable: noop, disable: () => '', enabled: () => false})
  module.exports.default = module.exports
}

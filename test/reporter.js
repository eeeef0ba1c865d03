'use strict'
/**
 * mocha's spec reporter, plus one plain closing line ("N passed, N failed") that CI tooling
 * reads in any language.
 */
const Mocha = require('mocha')

class ClosingLineReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options)
    runner.once('end', () => {
      const {passes, failures, pending} = runner.stats
      process.stdout.write(`${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ''}\n`)
    })
  }
}

module.exports = ClosingLineReporter

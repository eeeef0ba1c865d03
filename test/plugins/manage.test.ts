/** What plugin installs may show of the spec they were given: never a URL's credentials. */
import assert from 'node:assert/strict'

import {redactSpec} from '../../src/plugins/manage'

describe('plugins/manage: redactSpec', () => {
  it('hides the user-info of git and tarball URLs, and leaves names and paths alone', () => {
    assert.equal(redactSpec('git+https://deploy:ghp_secret123@github.com/acme/plugin.git'), 'git+https://[REDACTED]@github.com/acme/plugin.git')
    assert.equal(redactSpec('https://token@registry.example.com/p/-/p-1.0.0.tgz'), 'https://[REDACTED]@registry.example.com/p/-/p-1.0.0.tgz')
    assert.equal(redactSpec('aivault-plugin-postgres'), 'aivault-plugin-postgres')
    assert.equal(redactSpec('@scope/plugin@1.2.3'), '@scope/plugin@1.2.3')
    assert.equal(redactSpec('file:/tmp/x.tgz'), 'file:/tmp/x.tgz')
  })
})

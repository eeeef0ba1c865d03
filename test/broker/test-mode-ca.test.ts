/** AIVAULT_DEV_CA_CERT_PATH in a testing vault: read through src/vault (the broker opens no file), refused clearly when unreadable. */
import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {readTestOverrides} from '../../src/broker/request/test-mode'
import {AivaultError} from '../../src/errors'

describe('broker/test-mode: AIVAULT_DEV_CA_CERT_PATH', () => {
  let dir: string

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-ca-'))
  })

  afterEach(() => {
    fs.rmSync(dir, {recursive: true, force: true})
  })

  it('reads the CA file of a testing vault', () => {
    const file = path.join(dir, 'ca.pem')
    fs.writeFileSync(file, '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n')
    assert.equal(readTestOverrides({AIVAULT_DEV_CA_CERT_PATH: file}, true).caCert, fs.readFileSync(file, 'utf8'))
  })

  for (const [what, name] of [['a missing file', 'missing.pem'], ['a folder', '.']] as const) {
    it(`refuses ${what} with invalid_request naming the variable`, () => {
      const file = path.join(dir, name)
      assert.throws(
        () => readTestOverrides({AIVAULT_DEV_CA_CERT_PATH: file}, true),
        (error: unknown) => error instanceof AivaultError && error.code === 'invalid_request' && error.message.includes('AIVAULT_DEV_CA_CERT_PATH') && error.message.includes('cannot be read'),
      )
    })
  }
})

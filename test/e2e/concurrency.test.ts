/**
 * Concurrent CLI processes never lose an update (SPEC §1): multi-record operations hold the
 * vault lock, writes are atomic, and a missing vault is auto-initialized exactly once.
 */
import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as YAML from 'yaml'

import type {CliResult} from './fixture'
import {parseJson, useTempVault} from './fixture'

const N = 8

/** Every file under `dir` (recursively), relative to it. */
function allFiles(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return
    for (const entry of fs.readdirSync(d, {withFileTypes: true})) {
      const full = path.join(d, entry.name)
      if (entry.isDirectory()) walk(full)
      else out.push(path.relative(dir, full))
    }
  }
  walk(dir)
  return out
}

describe('e2e: concurrent CLI processes', function () {
  this.timeout(120_000)
  const vault = useTempVault()

  const names = Array.from({length: N}, (_, i) => `CONCURRENT_${i}`)
  const valueOf = (name: string) => `value-of-${name}-${name.length * 7}`

  function startCreates(): Promise<CliResult[]> {
    const v = vault()
    return Promise.all(names.map((name) => v.runAsync(['secrets', 'create', '--name', name, '--value-stdin', '--json'], {input: valueOf(name)})))
  }

  /** All N secrets landed, every record parses and opens, nothing is left behind. */
  function expectAllLanded(results: CliResult[]): void {
    const v = vault()
    for (const [i, result] of results.entries()) {
      assert.equal(result.status, 0, `process ${i} exited ${result.status}: ${result.stdout}${result.stderr}`)
      assert.equal(parseJson(result).secret.name, names[i])
    }
    const createdIds = results.map((r) => parseJson(r).secret.id)
    assert.equal(new Set(createdIds).size, N, 'every process created its own secret')

    const listed = v.json(['secrets', 'list']).secrets
    assert.deepEqual(
      listed.map((s: {name: string}) => s.name),
      [...names].sort(),
    )
    assert.deepEqual(listed.map((s: {id: string}) => s.id).sort(), [...createdIds].sort())

    const secretsDir = path.join(v.root, 'secrets')
    const files = fs.readdirSync(secretsDir)
    assert.deepEqual(files.sort(), createdIds.map((id) => `${id}.yaml`).sort(), 'exactly one file per secret, no temp files')
    for (const file of files) {
      const record = YAML.parse(fs.readFileSync(path.join(secretsDir, file), 'utf8'))
      assert.equal(`${record.id}.yaml`, file)
      assert.ok(names.includes(record.name))
      assert.ok(!fs.readFileSync(path.join(secretsDir, file), 'utf8').includes(valueOf(record.name)), 'no plaintext in the record')
    }

    const leftovers = [...allFiles(v.root), ...allFiles(v.keysDir)].filter((f) => f.endsWith('.tmp'))
    assert.deepEqual(leftovers, [], 'no leftover *.tmp files')
    assert.equal(fs.existsSync(path.join(v.root, 'run', 'lock')), false, 'the vault lock is released')

    const doctor = v.run(['doctor', '--json'])
    const report = parseJson(doctor)
    assert.equal(doctor.status, 0, JSON.stringify(report))
    assert.equal(report.ok, true)
    assert.deepEqual(report.findings, [])
    assert.equal(report.checked.secrets, N)
    assert.equal(report.checked.opened, N)

    const verify = v.run(['audit', 'verify', '--json'])
    assert.equal(verify.status, 0, verify.stdout + verify.stderr)
    assert.equal(parseJson(verify).ok, true)
    const creates = v.json(['audit', '--kind', 'secret.create']).events
    assert.deepEqual(
      creates.map((e: {name: string}) => e.name).sort(),
      [...names].sort(),
      'one secret.create event per process',
    )
    assert.equal(v.json(['audit', '--kind', 'vault.init']).events.length, 1, 'one vault.init event')
  }

  it(`${N} secrets create processes at once on an initialized vault all land`, async () => {
    const v = vault()
    const init = v.run(['init', '--json'])
    assert.equal(init.status, 0, init.stdout + init.stderr)
    const vaultId = parseJson(init).vaultId
    const results = await startCreates()
    expectAllLanded(results)
    assert.equal(v.json(['status']).vaultId, vaultId)
  })

  it(`${N} secrets create processes at once on a missing vault initialize it exactly once`, async () => {
    const v = vault()
    assert.equal(fs.existsSync(v.root), false)
    const results = await startCreates()
    expectAllLanded(results)

    const status = v.json(['status'])
    assert.equal(status.initialized, true)
    assert.equal(status.provider, 'file')
    // Exactly one vault id and one key: the losers of the init race used the winner's vault.
    const keys = fs.readdirSync(v.keysDir).filter((f) => f.endsWith('.key'))
    assert.deepEqual(keys, [`${status.vaultId}.key`], `one key file: ${fs.readdirSync(v.keysDir).join(', ')}`)
    const config = YAML.parse(fs.readFileSync(path.join(v.root, 'vault.yaml'), 'utf8'))
    assert.equal(config.vaultId, status.vaultId)
    const inits = v.json(['audit', '--kind', 'vault.init']).events
    assert.equal(inits.length, 1)
    assert.equal(inits[0].vaultId, status.vaultId)
  })

  it(`${N} concurrent creates of pinned provider secrets in different scopes each provision one credential`, async () => {
    const v = vault()
    const workspaces = Array.from({length: N}, (_, i) => `ws${i}`)
    const results = await Promise.all(
      workspaces.map((w) =>
        v.runAsync(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin', '--scope', 'workspace', '--workspace-id', w, '--json'], {input: `sk-${w}`}),
      ),
    )
    for (const r of results) assert.equal(r.status, 0, r.stdout + r.stderr)
    const credentials = v.json(['credential', 'list']).credentials.map((c: {id: string}) => c.id)
    assert.deepEqual(credentials.sort(), workspaces.map((w) => `openai:ws:${w}`).sort())
    const report = v.json(['doctor'])
    assert.equal(report.checked.opened, N)
    assert.deepEqual(report.findings, [])
  })

  it(`${N} concurrent creates of one name in one scope: exactly one wins, the others get conflict`, async () => {
    const v = vault()
    v.ok(['init'])
    const results = await Promise.all(
      Array.from({length: N}, (_, i) => v.runAsync(['secrets', 'create', '--name', 'SAME_NAME', '--value-stdin', '--json'], {input: `value-${i}`})),
    )
    const winners = results.filter((r) => r.status === 0)
    assert.equal(winners.length, 1, results.map((r) => r.stdout).join('\n'))
    for (const r of results.filter((r) => r.status !== 0)) {
      assert.equal(r.status, 1)
      assert.equal(parseJson(r).error.code, 'conflict')
    }
    const listed = v.json(['secrets', 'list']).secrets
    assert.equal(listed.length, 1)
    assert.equal(listed[0].id, parseJson(winners[0]).secret.id)
  })
})

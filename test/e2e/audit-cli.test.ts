/**
 * `aivault audit` and `aivault audit verify` (SPEC §2, §12, §15): newest-first JSON events
 * with filters, never a secret value, and a hash chain whose first break is reported as
 * `vault_tampered` naming the file and line. AIVAULT_DISABLE_DISK_LOGS=1 writes nothing.
 */
import assert from 'node:assert/strict'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'

import type {TempVault} from './fixture'
import {cloneTempVault, parseJson, TempVault as Vault, useTempVault} from './fixture'

interface Event {
  ts: string
  kind: string
  prev: string
  [field: string]: unknown
}

const SECRET_VALUES = {
  OPENAI_API_KEY: `sk-audit-${crypto.randomBytes(16).toString('hex')}`,
  MY_KEY: `my-audit-${crypto.randomBytes(16).toString('hex')}`,
  ROTATED: `rotated-audit-${crypto.randomBytes(16).toString('hex')}`,
  CUSTOM: `custom-audit-${crypto.randomBytes(16).toString('hex')}`,
}

describe('e2e: audit CLI', function () {
  this.timeout(120_000)

  let template: TempVault
  let all: Event[]
  const ids: Record<string, string> = {}

  before(() => {
    template = new Vault()
    template.ok(['init'])
    ids.OPENAI_API_KEY = template.createSecret('OPENAI_API_KEY', SECRET_VALUES.OPENAI_API_KEY)
    ids.MY_KEY = template.createSecret('MY_KEY', SECRET_VALUES.MY_KEY, ['--scope', 'workspace', '--workspace-id', 'team'])
    template.ok(['secrets', 'rotate', '--id', ids.MY_KEY, '--value-stdin'], {input: SECRET_VALUES.ROTATED})
    ids.CUSTOM = template.createSecret('CUSTOM_TOKEN', SECRET_VALUES.CUSTOM)
    template.ok([
      'credential', 'create', 'my-api', '--provider', 'my-api', '--secret-ref', `vault:secret:${ids.CUSTOM}`,
      '--auth', 'header', '--header-name', 'x-api-key', '--value-template', '{{secret}}', '--host', 'api.example.com',
    ])
    const out = template.json(['audit'])
    assert.ok(Array.isArray(out.events), JSON.stringify(out))
    all = out.events
  })

  after(() => template?.dispose())

  const auditDir = (v: TempVault) => path.join(v.root, 'audit')
  const dayFiles = (v: TempVault) => fs.readdirSync(auditDir(v)).filter((n) => /^\d{4}-\d{2}-\d{2}\.jsonl$/.test(n)).sort()

  it('records the events of each command with the documented kinds, newest first', () => {
    const kinds = all.map((e) => e.kind)
    // Oldest first, as the commands ran.
    assert.deepEqual([...kinds].reverse(), [
      'vault.init',
      'secret.create',
      'secret.pin',
      'credential.create',
      'secret.create',
      'secret.rotate',
      'secret.create',
      'credential.create',
    ])
    for (let i = 1; i < all.length; i++) assert.ok(all[i - 1].ts >= all[i].ts, `newest first at ${i}: ${all[i - 1].ts} < ${all[i].ts}`)
    for (const e of all) {
      assert.ok(!Number.isNaN(Date.parse(e.ts)), e.ts)
      assert.match(e.prev, /^[0-9a-f]{64}$/)
    }

    const byKind = (kind: string) => all.filter((e) => e.kind === kind)
    assert.equal(byKind('vault.init')[0].vaultId, template.json(['status']).vaultId)
    const creates = byKind('secret.create')
    assert.deepEqual(creates.map((e) => e.secretId).reverse(), [ids.OPENAI_API_KEY, ids.MY_KEY, ids.CUSTOM])
    assert.deepEqual(creates[1].scope, {type: 'workspace', workspaceId: 'team'}, 'events carry the scope (SPEC §15 shape)')
    const pin = byKind('secret.pin')[0]
    assert.equal(pin.secretId, ids.OPENAI_API_KEY)
    assert.equal(pin.provider, 'openai')
    assert.deepEqual(
      byKind('credential.create').map((e) => e.credentialId).reverse(),
      ['openai', 'my-api'],
    )
    assert.equal(byKind('secret.rotate')[0].secretId, ids.MY_KEY)
  })

  it('never contains a secret value, in the JSON output or the files', () => {
    const text = JSON.stringify(all) + dayFiles(template).map((n) => fs.readFileSync(path.join(auditDir(template), n), 'utf8')).join('')
    for (const value of Object.values(SECRET_VALUES)) {
      assert.ok(!text.includes(value), 'a secret value is in the audit log')
      assert.ok(!text.includes(Buffer.from(value).toString('base64')), 'a base64 secret value is in the audit log')
    }
    const human = template.ok(['audit'])
    for (const value of Object.values(SECRET_VALUES)) assert.ok(!human.includes(value))
    assert.ok(human.includes('secret.create'))
  })

  it('stores one JSONL file per UTC day, named audit/YYYY-MM-DD.jsonl', () => {
    const files = dayFiles(template)
    const days = new Set(all.map((e) => `${e.ts.slice(0, 10)}.jsonl`))
    assert.deepEqual(files, [...days].sort())
    const lines = files.flatMap((n) => fs.readFileSync(path.join(auditDir(template), n), 'utf8').split('\n').filter(Boolean))
    assert.equal(lines.length, all.length)
    assert.equal(fs.statSync(path.join(auditDir(template), files[0])).mode & 0o077, 0, 'audit files are 0600')
  })

  it('--limit returns the newest N events', () => {
    const two = template.json(['audit', '--limit', '2']).events
    assert.deepEqual(two, all.slice(0, 2))
    assert.deepEqual(template.json(['audit', '--limit', '1']).events, all.slice(0, 1))
    assert.deepEqual(template.json(['audit', '--limit', '1000']).events, all)
    const bad = template.run(['audit', '--limit', '0'])
    assert.equal(bad.status, 2, 'a limit below 1 is a usage error')
  })

  it('--kind filters by kind', () => {
    const creates = template.json(['audit', '--kind', 'secret.create']).events
    assert.deepEqual(
      creates,
      all.filter((e) => e.kind === 'secret.create'),
    )
    assert.equal(creates.length, 3)
    assert.deepEqual(template.json(['audit', '--kind', 'credential.create', '--limit', '1']).events, [all.find((e) => e.kind === 'credential.create')])
    assert.deepEqual(template.json(['audit', '--kind', 'no.such.kind']).events, [])
  })

  it('--before and --before-ts-ms keep only strictly older events', () => {
    // Use the timestamp of the third-oldest distinct time as the cut.
    const cut = all[Math.floor(all.length / 2)].ts
    const expected = all.filter((e) => Date.parse(e.ts) < Date.parse(cut))
    assert.ok(expected.length > 0 && expected.length < all.length)
    assert.deepEqual(template.json(['audit', '--before', cut]).events, expected)
    assert.deepEqual(template.json(['audit', '--before-ts-ms', String(Date.parse(cut))]).events, expected)
    assert.deepEqual(template.json(['audit', '--before', '2000-01-01T00:00:00Z']).events, [])
    assert.deepEqual(
      template.json(['audit', '--before', cut, '--kind', 'vault.init']).events,
      all.filter((e) => e.kind === 'vault.init'),
    )
    const bad = template.run(['audit', '--before', 'yesterday-ish'])
    assert.equal(bad.status, 2, bad.stdout + bad.stderr)
    const both = template.run(['audit', '--before', cut, '--before-ts-ms', '1'])
    assert.equal(both.status, 2, 'conflicting flags are a usage error')
  })

  it('audit verify exits 0 on an intact log', () => {
    const result = template.run(['audit', 'verify', '--json'])
    assert.equal(result.status, 0, result.stdout + result.stderr)
    const out = parseJson(result)
    assert.equal(out.ok, true)
    assert.equal(out.events, all.length)
    const human = template.run(['audit', 'verify'])
    assert.equal(human.status, 0)
    assert.match(human.stdout, new RegExp(`${all.length} events`))
  })

  it('reading the log never writes to it', () => {
    const before = template.snapshot(template.root, /(^|\/)run(\/|$)/)
    template.ok(['audit'])
    template.ok(['audit', 'verify'])
    assert.deepEqual(template.snapshot(template.root, /(^|\/)run(\/|$)/), before)
  })

  describe('tampering with audit/<day>.jsonl', () => {
    let v: TempVault
    let file: string
    let lines: string[]

    beforeEach(() => {
      v = cloneTempVault(template)
      const files = dayFiles(v)
      file = path.join(auditDir(v), files[files.length - 1])
      lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)
      assert.ok(lines.length >= 5, 'enough lines in one day file for the cases below')
    })

    afterEach(() => v?.dispose())

    const write = (next: string[]) => fs.writeFileSync(file, next.map((l) => l + '\n').join(''))

    /** verify exits 1 with vault_tampered naming the file and line, in JSON and human form. */
    function expectBreak(line: number): void {
      const rel = `audit/${path.basename(file)}`
      const result = v.run(['audit', 'verify', '--json'])
      assert.equal(result.status, 1, result.stdout + result.stderr)
      const error = parseJson(result).error
      assert.equal(error.code, 'vault_tampered')
      assert.ok(error.message.includes(rel), `names ${rel}: ${error.message}`)
      assert.match(error.message, new RegExp(`\\bline ${line}\\b`), error.message)
      const human = v.run(['audit', 'verify'])
      assert.equal(human.status, 1)
      assert.match(human.stderr, /^Error: .*audit\//m)
      assert.ok(human.stderr.includes(rel))
      assert.ok(!/\n\s+at /.test(human.stderr), 'no stack trace')
      // doctor reports the audit chain too.
      const doctor = parseJson(v.run(['doctor', '--json']))
      assert.ok(
        doctor.findings.some((f: {check: string; file?: string}) => f.check === 'audit' && f.file === rel),
        JSON.stringify(doctor.findings),
      )
    }

    it('an edited line is reported at the line that follows it', () => {
      const event = JSON.parse(lines[1])
      event.kind = 'secret.delete'
      write([lines[0], JSON.stringify(event), ...lines.slice(2)])
      expectBreak(3)
    })

    it('an edited field that keeps the line the same length is reported', () => {
      write(lines.map((l, i) => (i === 2 ? l.replace(/"ts":"(\d{4})/, (_m, y) => `"ts":"${Number(y) - 1}`) : l)))
      assert.notEqual(fs.readFileSync(file, 'utf8'), lines.map((l) => l + '\n').join(''))
      expectBreak(4)
    })

    it('a removed line is reported', () => {
      write([...lines.slice(0, 2), ...lines.slice(3)])
      expectBreak(3)
    })

    it('two reordered lines are reported at the first of them', () => {
      write([lines[0], lines[2], lines[1], ...lines.slice(3)])
      expectBreak(2)
    })

    it('an edited last line is reported (through audit/head)', () => {
      const last = JSON.parse(lines[lines.length - 1])
      last.credentialId = 'forged'
      write([...lines.slice(0, -1), JSON.stringify(last)])
      expectBreak(lines.length)
    })

    it('a removed last line is reported', () => {
      write(lines.slice(0, -1))
      const result = v.run(['audit', 'verify', '--json'])
      assert.equal(result.status, 1)
      assert.equal(parseJson(result).error.code, 'vault_tampered')
    })

    it('new events after a break do not hide it', () => {
      write([...lines.slice(0, 2), ...lines.slice(3)])
      v.createSecret('AFTER_BREAK', 'after-break-value')
      expectBreak(3)
    })
  })

  describe('without a vault or with disk logs disabled', () => {
    const vault = useTempVault()

    it('AIVAULT_DISABLE_DISK_LOGS=1 writes no audit files', () => {
      const v = vault()
      const env = {AIVAULT_DISABLE_DISK_LOGS: '1'}
      v.ok(['init'], {env})
      const id = v.createSecret('OPENAI_API_KEY', 'sk-disabled-logs', [])
      assert.ok(id)
      v.ok(['secrets', 'rotate', '--id', id, '--value-stdin'], {input: 'sk-disabled-2', env})
      v.ok(['secrets', 'create', '--name', 'OTHER', '--value-stdin'], {input: 'other-value', env})
      // createSecret above ran without the variable: only its events may exist.
      const kinds = v.json(['audit']).events.map((e: Event) => e.kind)
      assert.deepEqual(kinds, ['credential.create', 'secret.pin', 'secret.create'])
    })

    it('AIVAULT_DISABLE_DISK_LOGS=1 from the first command leaves audit/ empty', () => {
      const v = vault()
      const env = {AIVAULT_DISABLE_DISK_LOGS: '1'}
      v.ok(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin'], {input: 'sk-disabled', env})
      v.ok(['secrets', 'create', '--name', 'MY_KEY', '--value-stdin'], {input: 'my-disabled', env})
      const dir = path.join(v.root, 'audit')
      const files = fs.existsSync(dir) ? fs.readdirSync(dir) : []
      assert.deepEqual(files, [], `no audit files: ${files.join(', ')}`)
      assert.deepEqual(v.json(['audit']).events, [])
      assert.equal(v.run(['audit', 'verify']).status, 0)
      assert.equal(v.json(['secrets', 'list']).secrets.length, 2, 'the commands themselves worked')
    })

    it('audit on a missing vault lists nothing and creates nothing', () => {
      const v = vault()
      assert.deepEqual(v.json(['audit']).events, [])
      const verify = v.run(['audit', 'verify', '--json'])
      assert.equal(verify.status, 0, verify.stdout)
      assert.equal(fs.existsSync(v.root), false, 'no vault folder was created')
    })
  })
})

/**
 * Tampering with records and vault.yaml (SPEC §1, §15): a record whose associated data
 * (vault id, secret id, scope, pinned provider) or sealed block was changed fails closed with
 * `vault_tampered` naming the file relative to the vault root, without stopping the other
 * records; vault.yaml's security settings are covered by a MAC.
 */
import assert from 'node:assert/strict'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as YAML from 'yaml'

import type {TempVault} from './fixture'
import {cloneTempVault, parseJson, TempVault as Vault} from './fixture'

const VALUES: Record<string, string> = {
  OPENAI_API_KEY: `sk-tamper-${crypto.randomBytes(12).toString('hex')}`,
  GITHUB_TOKEN: `ghp_tamper${crypto.randomBytes(12).toString('hex')}`,
  MY_KEY: `my-tamper-${crypto.randomBytes(12).toString('hex')}`,
  TEAM_KEY: `team-tamper-${crypto.randomBytes(12).toString('hex')}`,
}

interface DoctorFinding {
  check: string
  file?: string
  problem: string
  fixed: boolean
  code?: string
}

interface DoctorReport {
  ok: boolean
  checked: {secrets: number; credentials: number; opened: number}
  findings: DoctorFinding[]
}

describe('e2e: tampering fails closed, per record', function () {
  this.timeout(120_000)

  let template: TempVault
  /** Secret name -> id in the template vault (and in every clone of it). */
  const ids: Record<string, string> = {}
  let v: TempVault

  before(() => {
    template = new Vault()
    const imported = template.json(['secrets', 'import', '--entry', `OPENAI_API_KEY=${VALUES.OPENAI_API_KEY}`, '--entry', `GITHUB_TOKEN=${VALUES.GITHUB_TOKEN}`, '--entry', `MY_KEY=${VALUES.MY_KEY}`])
    assert.deepEqual([...imported.created].sort(), ['GITHUB_TOKEN', 'MY_KEY', 'OPENAI_API_KEY'], JSON.stringify(imported))
    template.createSecret('TEAM_KEY', VALUES.TEAM_KEY, ['--scope', 'workspace', '--workspace-id', 'team'])
    for (const s of template.json(['secrets', 'list']).secrets) ids[s.name] = s.id
    assert.deepEqual(Object.keys(ids).sort(), ['GITHUB_TOKEN', 'MY_KEY', 'OPENAI_API_KEY', 'TEAM_KEY'])
  })

  after(() => template?.dispose())

  beforeEach(() => {
    v = cloneTempVault(template)
  })

  afterEach(() => v?.dispose())

  const rel = (id: string) => `secrets/${id}.yaml`
  const recordPath = (id: string) => path.join(v.root, rel(id))
  const readRecord = (id: string): any => YAML.parse(fs.readFileSync(recordPath(id), 'utf8'))
  /** Rewrite a record in place (its 0600 mode is kept). */
  const writeRecord = (file: string, record: unknown) => fs.writeFileSync(file, YAML.stringify(record, {lineWidth: 0}))
  const editRecord = (id: string, edit: (record: any) => void) => {
    const record = readRecord(id)
    edit(record)
    writeRecord(recordPath(id), record)
  }

  function doctor(env?: NodeJS.ProcessEnv): {status: number; report: DoctorReport} {
    const result = v.run(['doctor', '--json'], {env})
    const report = parseJson<DoctorReport>(result)
    assert.ok(report.checked, `doctor printed a report: ${result.stdout}`)
    return {status: result.status, report}
  }

  function listedIds(env?: NodeJS.ProcessEnv): string[] {
    const result = v.run(['secrets', 'list', '--json'], {env})
    assert.equal(result.status, 0, result.stdout + result.stderr)
    return parseJson(result).secrets.map((s: {id: string}) => s.id)
  }

  /**
   * Doctor exits 1 with one `vault_tampered` finding per tampered file (and no other record
   * finding), and every other secret still lists and opens.
   */
  function expectTampered(tamperedFiles: string[], untouchedNames: string[], danglingCredentials: string[] = []): DoctorReport {
    const {status, report} = doctor()
    assert.equal(status, 1, `doctor exits 1: ${JSON.stringify(report)}`)
    assert.equal(report.ok, false)
    const recordFindings = report.findings.filter((f) => f.check === 'records')
    assert.deepEqual(
      recordFindings.map((f) => f.file).sort(),
      [...tamperedFiles].sort(),
      `findings name exactly the tampered files: ${JSON.stringify(report.findings)}`,
    )
    for (const finding of recordFindings) assert.equal(finding.code, 'vault_tampered', JSON.stringify(finding))
    // Only a credential whose secret no longer lists under its id may also be reported.
    assert.deepEqual(
      report.findings.filter((f) => f.check !== 'records').map((f) => `${f.check} ${f.file}`),
      danglingCredentials.map((file) => `references ${file}`),
      `nothing else is reported: ${JSON.stringify(report.findings)}`,
    )
    assert.equal(report.checked.opened, untouchedNames.length, `every other secret opens: ${JSON.stringify(report.checked)}`)
    const listed = listedIds()
    for (const name of untouchedNames) assert.ok(listed.includes(ids[name]), `${name} still lists`)
    // No secret value ever appears in the output.
    for (const value of Object.values(VALUES)) assert.ok(!JSON.stringify(report).includes(value))
    return report
  }

  const ALL = ['GITHUB_TOKEN', 'MY_KEY', 'OPENAI_API_KEY', 'TEAM_KEY']
  const others = (...names: string[]) => ALL.filter((n) => !names.includes(n))

  it('an untouched copy is healthy (baseline for every case below)', () => {
    const {status, report} = doctor()
    assert.equal(status, 0, JSON.stringify(report))
    assert.deepEqual(report, {ok: true, checked: {secrets: 4, credentials: 2, opened: 4}, findings: []})
    assert.equal(readRecord(ids.OPENAI_API_KEY).pinnedProvider, 'openai')
    assert.equal(readRecord(ids.GITHUB_TOKEN).pinnedProvider, 'github')
    assert.equal(readRecord(ids.MY_KEY).pinnedProvider, null)
    assert.deepEqual(readRecord(ids.TEAM_KEY).scope, {type: 'workspace', workspaceId: 'team'})
  })

  /** Swap the sealed blocks of two secrets' record files. */
  const swapSealed = (x: keyof typeof ids, y: keyof typeof ids) => {
    const a = readRecord(ids[x])
    const b = readRecord(ids[y])
    ;[a.sealed, b.sealed] = [b.sealed, a.sealed]
    writeRecord(recordPath(ids[x]), a)
    writeRecord(recordPath(ids[y]), b)
  }

  it('swapping the sealed blocks of two records breaks both, and only them', () => {
    swapSealed('OPENAI_API_KEY', 'MY_KEY')
    expectTampered([rel(ids.OPENAI_API_KEY), rel(ids.MY_KEY)], others('OPENAI_API_KEY', 'MY_KEY'))
  })

  it('swapping the sealed blocks of two pinned records breaks both', () => {
    swapSealed('OPENAI_API_KEY', 'GITHUB_TOKEN')
    expectTampered([rel(ids.OPENAI_API_KEY), rel(ids.GITHUB_TOKEN)], others('OPENAI_API_KEY', 'GITHUB_TOKEN'))
  })

  it('copying one record\'s sealed block over another breaks the target only', () => {
    const source = readRecord(ids.GITHUB_TOKEN)
    editRecord(ids.MY_KEY, (r) => (r.sealed = source.sealed))
    expectTampered([rel(ids.MY_KEY)], others('MY_KEY'))
  })

  const recordEdits: {title: string; name: string; edit: (record: any) => void}[] = [
    {title: 'scope global -> workspace', name: 'MY_KEY', edit: (r) => (r.scope = {type: 'workspace', workspaceId: 'team'})},
    {title: 'scope global -> group', name: 'OPENAI_API_KEY', edit: (r) => (r.scope = {type: 'group', workspaceId: 'team', groupId: 'g1'})},
    {title: 'scope workspace -> global', name: 'TEAM_KEY', edit: (r) => (r.scope = {type: 'global'})},
    {title: 'scope workspace -> another workspace', name: 'TEAM_KEY', edit: (r) => (r.scope.workspaceId = 'other')},
    {title: 'pinnedProvider openai -> github', name: 'OPENAI_API_KEY', edit: (r) => (r.pinnedProvider = 'github')},
    {title: 'pinnedProvider openai -> null (unpinned)', name: 'OPENAI_API_KEY', edit: (r) => (r.pinnedProvider = null)},
    {title: 'pinnedProvider removed from the file', name: 'GITHUB_TOKEN', edit: (r) => delete r.pinnedProvider},
    {title: 'pinnedProvider null -> openai', name: 'MY_KEY', edit: (r) => (r.pinnedProvider = 'openai')},
    {
      title: 'one byte of the value ciphertext',
      name: 'GITHUB_TOKEN',
      edit: (r) => {
        const bytes = Buffer.from(r.sealed.ciphertext, 'base64')
        bytes[Math.floor(bytes.length / 2)] ^= 0x20
        r.sealed.ciphertext = bytes.toString('base64')
      },
    },
    {
      title: 'the value nonce',
      name: 'MY_KEY',
      edit: (r) => {
        const bytes = Buffer.from(r.sealed.nonce, 'base64')
        bytes[0] ^= 0x01
        r.sealed.nonce = bytes.toString('base64')
      },
    },
    {
      title: 'the wrapped data key',
      name: 'TEAM_KEY',
      edit: (r) => {
        const bytes = Buffer.from(r.sealed.dek.ciphertext, 'base64')
        bytes[bytes.length - 1] ^= 0x80
        r.sealed.dek.ciphertext = bytes.toString('base64')
      },
    },
    {title: 'the dek kekId', name: 'OPENAI_API_KEY', edit: (r) => (r.sealed.dek.kekId = '0123456789abcdef')},
    {title: 'the sealing alg', name: 'MY_KEY', edit: (r) => (r.sealed.alg = 'none')},
  ]

  for (const c of recordEdits) {
    it(`editing a record's ${c.title} fails closed for that record only`, () => {
      const before = readRecord(ids[c.name])
      c.edit(before)
      assert.notDeepEqual(before, readRecord(ids[c.name]), 'the edit changes the record')
      editRecord(ids[c.name], c.edit)
      expectTampered([rel(ids[c.name])], others(c.name))
    })
  }

  it('after a record was tampered with, other secrets can still be created and the vault keeps working', () => {
    editRecord(ids.OPENAI_API_KEY, (r) => (r.scope = {type: 'workspace', workspaceId: 'team'}))
    const created = v.run(['secrets', 'create', '--name', 'AFTER_TAMPER', '--value-stdin', '--json'], {input: 'after-tamper-value'})
    assert.equal(created.status, 0, created.stdout + created.stderr)
    const newId = parseJson(created).secret.id
    ids.AFTER_TAMPER = newId
    try {
      expectTampered([rel(ids.OPENAI_API_KEY)], [...others('OPENAI_API_KEY'), 'AFTER_TAMPER'])
    } finally {
      delete ids.AFTER_TAMPER
    }
  })

  it('rotate-master refuses to run over a tampered record, names it, and changes nothing', () => {
    editRecord(ids.GITHUB_TOKEN, (r) => (r.pinnedProvider = 'openai'))
    const before = v.snapshot()
    const keysBefore = v.snapshot(v.keysDir)
    const result = v.run(['rotate-master', '--json'])
    assert.equal(result.status, 1, result.stdout + result.stderr)
    const error = parseJson(result).error
    assert.equal(error.code, 'vault_tampered')
    assert.ok(error.message.includes(rel(ids.GITHUB_TOKEN)), error.message)
    assert.deepEqual(v.snapshot(), before, 'no record or vault.yaml changed')
    assert.deepEqual(v.snapshot(v.keysDir), keysBefore, 'no key written or staged')
  })

  it("editing a record's id (the file name then mismatches) reports that file; the others list and open", () => {
    const forged = crypto.randomUUID()
    editRecord(ids.GITHUB_TOKEN, (r) => (r.id = forged))
    const report = expectTampered([rel(ids.GITHUB_TOKEN)], others('GITHUB_TOKEN'), ['credentials/github.yaml'])
    assert.match(report.findings.find((f) => f.check === 'records')?.problem ?? '', /id/)
    const listed = v.run(['secrets', 'list', '--json'])
    const names = parseJson(listed).secrets.map((s: {name: string}) => s.name)
    assert.deepEqual(names, ['MY_KEY', 'OPENAI_API_KEY', 'TEAM_KEY'], 'the mismatched record is not listed under either id')
    assert.match(listed.stderr, new RegExp(rel(ids.GITHUB_TOKEN)), 'the skipped file is named on stderr')
  })

  it("editing a record's id and renaming the file to match still fails: the id is bound to the value", () => {
    const forged = crypto.randomUUID()
    editRecord(ids.GITHUB_TOKEN, (r) => (r.id = forged))
    fs.renameSync(recordPath(ids.GITHUB_TOKEN), recordPath(forged))
    ids.FORGED = forged
    try {
      expectTampered([rel(forged)], others('GITHUB_TOKEN'), ['credentials/github.yaml'])
    } finally {
      delete ids.FORGED
    }
  })

  it('a record copied under a new id from another record fails to open', () => {
    const copy = readRecord(ids.MY_KEY)
    const forged = crypto.randomUUID()
    copy.id = forged
    copy.name = 'STOLEN_COPY'
    fs.writeFileSync(recordPath(forged), YAML.stringify(copy, {lineWidth: 0}), {mode: 0o600})
    const report = expectTampered([rel(forged)], ALL)
    assert.equal(report.checked.secrets, 5)
  })

  describe('vault.yaml', () => {
    const vaultYaml = () => path.join(v.root, 'vault.yaml')
    const keyText = () => {
      const config = YAML.parse(fs.readFileSync(vaultYaml(), 'utf8'))
      return fs.readFileSync(path.join(v.keysDir, `${config.vaultId}.key`), 'utf8').trim()
    }
    const editVaultYaml = (edit: (config: any) => void) => {
      const config = YAML.parse(fs.readFileSync(vaultYaml(), 'utf8'))
      edit(config)
      fs.writeFileSync(vaultYaml(), YAML.stringify(config, {lineWidth: 0}))
    }

    it('keyProvider.type file -> env (with the real key in AIVAULT_KEY) is vault_tampered naming vault.yaml', () => {
      const key = keyText()
      assert.equal(Buffer.from(key, 'base64').length, 32)
      editVaultYaml((c) => {
        assert.equal(c.keyProvider.type, 'file')
        c.keyProvider = {type: 'env', envVar: 'AIVAULT_KEY'}
      })
      const env = {AIVAULT_KEY: key}
      const {status, report} = doctor(env)
      assert.equal(status, 1, JSON.stringify(report))
      const finding = report.findings.find((f) => f.code === 'vault_tampered')
      assert.ok(finding, `a vault_tampered finding: ${JSON.stringify(report.findings)}`)
      assert.ok(finding.file === 'vault.yaml' || finding.problem.startsWith('vault.yaml'), `names vault.yaml: ${JSON.stringify(finding)}`)
      assert.equal(report.checked.opened, 0, 'nothing opens under an unverified configuration')
      // Listing needs no key: every secret still lists.
      assert.deepEqual(listedIds(env).sort(), Object.values(ids).sort())

      // A command that loads the key fails closed and writes nothing.
      const before = v.snapshot()
      const created = v.run(['secrets', 'create', '--name', 'NEW_ONE', '--value-stdin', '--json'], {input: 'x-value', env})
      assert.equal(created.status, 1, created.stdout + created.stderr)
      assert.equal(parseJson(created).error.code, 'vault_tampered')
      assert.match(parseJson(created).error.message, /vault\.yaml/)
      assert.deepEqual(v.snapshot(), before)
    })

    it('testing: false -> true fails closed with vault_tampered on a command that loads the key', () => {
      editVaultYaml((c) => {
        assert.equal(c.testing, false)
        c.testing = true
      })
      const before = v.snapshot()
      const created = v.run(['secrets', 'create', '--name', 'NEW_ONE', '--value-stdin', '--json'], {input: 'x-value'})
      assert.equal(created.status, 1, created.stdout + created.stderr)
      const error = parseJson(created).error
      assert.equal(error.code, 'vault_tampered')
      assert.match(error.message, /^vault\.yaml\b/)
      assert.deepEqual(v.snapshot(), before, 'nothing was written')

      const human = v.run(['secrets', 'create', '--name', 'NEW_ONE', '--value-stdin'], {input: 'x-value'})
      assert.equal(human.status, 1)
      assert.match(human.stderr, /^Error: vault\.yaml/m)
      assert.ok(!/\n\s+at /.test(human.stderr), 'no stack trace')

      const {status, report} = doctor()
      assert.equal(status, 1)
      assert.ok(report.findings.some((f) => f.code === 'vault_tampered'), JSON.stringify(report.findings))
    })

    it('a flipped MAC is vault_tampered', () => {
      editVaultYaml((c) => {
        const mac = Buffer.from(c.mac, 'base64')
        mac[3] ^= 1
        c.mac = mac.toString('base64')
      })
      const created = v.run(['secrets', 'create', '--name', 'NEW_ONE', '--value-stdin', '--json'], {input: 'x-value'})
      assert.equal(created.status, 1)
      assert.equal(parseJson(created).error.code, 'vault_tampered')
    })
  })

  describe('edits outside the associated data', () => {
    it('changing valueVersion and timestamps does not break opening (SPEC §1: AD = vault id + secret id + scope + pinned provider)', () => {
      editRecord(ids.MY_KEY, (r) => {
        r.valueVersion = 7
        r.updatedAt = '2001-01-01T00:00:00.000Z'
      })
      const {status, report} = doctor()
      assert.equal(status, 0, JSON.stringify(report))
      assert.deepEqual(report, {ok: true, checked: {secrets: 4, credentials: 2, opened: 4}, findings: []})
      const listed = v.json(['secrets', 'list']).secrets.find((s: {id: string}) => s.id === ids.MY_KEY)
      assert.equal(listed.valueVersion, 7, 'the edited metadata is what lists (it is not authenticated)')
      assert.equal(listed.updatedAt, '2001-01-01T00:00:00.000Z')
    })

    it('a malformed valueVersion is still caught as vault_tampered naming the file', () => {
      editRecord(ids.MY_KEY, (r) => (r.valueVersion = 0))
      expectTampered([rel(ids.MY_KEY)], others('MY_KEY'))
    })

    it('renaming a pinned secret in the file does not unpin it: the pin is bound to the value', () => {
      editRecord(ids.OPENAI_API_KEY, (r) => (r.name = 'RENAMED_KEY'))
      const {status, report} = doctor()
      assert.equal(status, 0, JSON.stringify(report))
      assert.equal(report.checked.opened, 4)
      const listed = v.json(['secrets', 'list']).secrets.find((s: {id: string}) => s.id === ids.OPENAI_API_KEY)
      assert.equal(listed.name, 'RENAMED_KEY')
      assert.equal(listed.pinnedProvider, 'openai')
    })
  })
})

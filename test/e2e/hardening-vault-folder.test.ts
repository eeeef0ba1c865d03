/**
 * The vault folder as an attack surface (SPEC §1, hardened; issue 12 item 10): a teammate who
 * can write the folder (through git) must not make aivault write, chmod or read anything
 * outside it through a link, nor hang it with a special file or an endless record. Each case
 * below was reproduced against the CLI before the fix.
 */
import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import type {CliResult} from './fixture'
import {CLI, cloneTempVault, expectJsonError, parseJson, TempVault} from './fixture'

interface DoctorFinding {
  check: string
  file?: string
  problem: string
  fixed: boolean
}

/** Run the CLI with a hard limit: a command that hangs on a special file is killed, and fails the test. */
function runLimited(v: TempVault, args: string[], input?: string): CliResult & {timedOut: boolean} {
  const result = spawnSync(process.execPath, [CLI, ...args], {env: v.env, cwd: v.base, input, encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL'})
  return {status: result.status ?? -1, stdout: result.stdout ?? '', stderr: result.stderr ?? '', timedOut: result.signal === 'SIGKILL'}
}

const today = (): string => `${new Date().toISOString().slice(0, 10)}.jsonl`

describe('e2e hardening: nothing in the vault folder is followed through a link', function () {
  this.timeout(120_000)

  let template: TempVault
  let v: TempVault
  const ids: Record<string, string> = {}

  before(() => {
    template = new TempVault()
    template.ok(['init', '--testing'])
    ids.OPENAI_API_KEY = template.createSecret('OPENAI_API_KEY', 'sk-folder-hardening-1111111111')
    ids.MY_KEY = template.createSecret('MY_KEY', 'my-folder-hardening-value-2222')
    template.ok(['capability', 'create', 'openai/models-only', '--credential', 'openai', '--method', 'GET', '--path', '/v1/models'])
  })

  after(() => template?.dispose())

  beforeEach(() => {
    v = cloneTempVault(template)
  })

  afterEach(() => v?.dispose())

  /** A file outside the vault with known bytes and mode. */
  function outsideFile(name: string, mode = 0o644): {file: string; bytes: string} {
    const file = path.join(v.base, name)
    const bytes = `precious bytes that must survive: ${'x'.repeat(200)}\n`
    fs.writeFileSync(file, bytes, {mode})
    fs.chmodSync(file, mode)
    return {file, bytes}
  }

  function replaceWithLink(relative: string, target: string): void {
    const file = path.join(v.root, relative)
    fs.rmSync(file, {recursive: true, force: true})
    fs.symlinkSync(target, file)
  }

  const createSecret = (name: string) => runLimited(v, ['secrets', 'create', '--name', name, '--value-stdin', '--json'], 'a-value-for-the-link-tests')

  it('audit/head linked to a file elsewhere: an audited command refuses it, and the file is untouched', () => {
    const outside = outsideFile('outside-head.txt')
    replaceWithLink('audit/head', outside.file)
    const result = createSecret('AFTER_HEAD_LINK')
    const error = expectJsonError(result, 1, 'vault_tampered')
    assert.match(error.message, /^audit\/head: is a symbolic link/)
    assert.equal(fs.readFileSync(outside.file, 'utf8'), outside.bytes)
    assert.ok(fs.lstatSync(path.join(v.root, 'audit', 'head')).isSymbolicLink(), 'the link is left for the operator to see')
    // The event is written before the record: the refused command created no unaudited secret.
    assert.ok(!v.json(['secrets', 'list']).secrets.some((s: {name: string}) => s.name === 'AFTER_HEAD_LINK'))
  })

  it("today's audit file linked elsewhere: nothing is appended to the target", () => {
    const outside = outsideFile('outside-day.txt')
    replaceWithLink(`audit/${today()}`, outside.file)
    const error = expectJsonError(createSecret('AFTER_DAY_LINK'), 1, 'vault_tampered')
    assert.match(error.message, new RegExp(`^audit/${today().replace('.', '\\.')}: is a symbolic link`))
    assert.equal(fs.readFileSync(outside.file, 'utf8'), outside.bytes)
    // audit verify names the link instead of following it.
    const verify = expectJsonError(runLimited(v, ['audit', 'verify', '--json']), 1, 'vault_tampered')
    assert.match(verify.message, new RegExp(`audit/${today().replace('.', '\\.')} line 1: is a symbolic link`))
  })

  it('a linked audit/ folder: nothing is written into the folder it points to', () => {
    const elsewhere = path.join(v.base, 'elsewhere')
    fs.mkdirSync(elsewhere)
    replaceWithLink('audit', elsewhere)
    const error = expectJsonError(createSecret('AFTER_FOLDER_LINK'), 1, 'vault_tampered')
    assert.match(error.message, /^audit: is a symbolic link/)
    assert.deepEqual(fs.readdirSync(elsewhere), [])
  })

  it('doctor --fix never chmods through a link, and reports links where records belong', () => {
    const dir = path.join(v.base, 'outside-dir')
    fs.mkdirSync(dir, {mode: 0o755})
    fs.chmodSync(dir, 0o755)
    const outside = outsideFile('outside-mode.txt', 0o644)
    fs.symlinkSync(dir, path.join(v.root, 'secrets', 'a-folder-link.yaml'))
    fs.symlinkSync(outside.file, path.join(v.root, 'run', 'cache-link.json'))
    fs.chmodSync(path.join(v.root, 'secrets', `${ids.MY_KEY}.yaml`), 0o644) // a real looser file is still fixed
    const report = parseJson(runLimited(v, ['doctor', '--fix', '--json']))
    assert.equal(fs.statSync(dir).mode & 0o777, 0o755, 'the linked folder kept its mode')
    assert.equal(fs.statSync(outside.file).mode & 0o777, 0o644, 'the linked file kept its mode')
    assert.equal(fs.statSync(path.join(v.root, 'secrets', `${ids.MY_KEY}.yaml`)).mode & 0o777, 0o600)
    const links = report.findings.filter((f: DoctorFinding) => f.check === 'links')
    assert.deepEqual(links.map((f: DoctorFinding) => [f.file, f.fixed]).sort(), [['run/cache-link.json', false], ['secrets/a-folder-link.yaml', false]])
    assert.equal(report.ok, false)
  })

  it('capabilities/x.yaml -> /dev/zero: doctor and capability list finish, report it, and the other records keep working', () => {
    fs.symlinkSync('/dev/zero', path.join(v.root, 'capabilities', 'zero%2Fx.yaml'))
    const list = runLimited(v, ['capability', 'list', '--json'])
    assert.equal(list.timedOut, false, 'capability list hung on /dev/zero')
    assert.equal(list.status, 0, list.stdout + list.stderr)
    assert.ok(JSON.stringify(parseJson(list)).includes('openai/models-only'), 'the other custom capability is still listed')
    const doctor = runLimited(v, ['doctor', '--json'])
    assert.equal(doctor.timedOut, false, 'doctor hung on /dev/zero')
    const report = parseJson(doctor)
    assert.ok(report.findings.some((f: DoctorFinding) => f.check === 'links' && f.file === 'capabilities/zero%2Fx.yaml'), JSON.stringify(report.findings))
    const describe = runLimited(v, ['capability', 'describe', 'zero/x', '--json'])
    assert.equal(describe.timedOut, false)
    assert.match(expectJsonError(describe, 1, 'vault_tampered').message, /^capabilities\/zero%2Fx\.yaml: is a symbolic link/)
  })

  it('a fifo where a record belongs is refused at once, never opened for a blocking read', () => {
    const fifo = path.join(v.root, 'credentials', 'fifo.yaml')
    execFileSync('mkfifo', [fifo]) // coreutils: a missing mkfifo fails the test, never skips it
    const list = runLimited(v, ['credential', 'list', '--json'])
    assert.equal(list.timedOut, false, 'credential list hung on a fifo')
    assert.equal(list.status, 0, list.stdout + list.stderr)
    assert.ok(JSON.stringify(parseJson(list)).includes('"openai"'), 'the other credential is still listed')
    const report = parseJson(runLimited(v, ['doctor', '--json']))
    const finding = report.findings.find((f: DoctorFinding) => f.file === 'credentials/fifo.yaml')
    assert.equal(finding?.check, 'links', JSON.stringify(report.findings))
    assert.match(finding.problem, /is a fifo/)
  })

  it('a dangling link where a record belongs: doctor reports it without crashing; listing skips it by name', () => {
    fs.symlinkSync(path.join(v.base, 'nowhere.yaml'), path.join(v.root, 'secrets', '00000000-0000-4000-8000-000000000000.yaml'))
    const doctor = runLimited(v, ['doctor', '--json'])
    const report = parseJson(doctor)
    assert.ok(report.findings.some((f: DoctorFinding) => f.check === 'links' && f.file === 'secrets/00000000-0000-4000-8000-000000000000.yaml'), JSON.stringify(report.findings))
    assert.ok(!/\n\s+at .+:\d+:\d+\)?$/m.test(doctor.stderr), doctor.stderr)
    const human = runLimited(v, ['secrets', 'list'])
    assert.equal(human.status, 0, human.stderr)
    assert.match(human.stderr, /skipped secrets\/00000000-0000-4000-8000-000000000000\.yaml: is a symbolic link/)
    assert.deepEqual(v.json(['secrets', 'list']).secrets.map((s: {name: string}) => s.name).sort(), ['MY_KEY', 'OPENAI_API_KEY'])
  })

  it('a secret record replaced by a link to a copy elsewhere is refused by name; the other secrets keep working', () => {
    const record = path.join(v.root, 'secrets', `${ids.MY_KEY}.yaml`)
    const copy = path.join(v.base, 'copy.yaml')
    fs.copyFileSync(record, copy)
    replaceWithLink(`secrets/${ids.MY_KEY}.yaml`, copy)
    const rotate = runLimited(v, ['secrets', 'rotate', '--id', ids.MY_KEY, '--value-stdin', '--json'], 'rotated-through-a-link')
    assert.match(expectJsonError(rotate, 1, 'vault_tampered').message, new RegExp(`^secrets/${ids.MY_KEY}\\.yaml: is a symbolic link`))
    assert.deepEqual(v.json(['secrets', 'list']).secrets.map((s: {name: string}) => s.name), ['OPENAI_API_KEY'])
    const other = runLimited(v, ['secrets', 'rotate', '--id', ids.OPENAI_API_KEY, '--value-stdin', '--json'], 'sk-folder-hardening-rotated-333')
    assert.equal(other.status, 0, other.stdout + other.stderr)
  })

  it('a record larger than 1 MiB is refused as vault_tampered before it is parsed', () => {
    const record = path.join(v.root, 'secrets', `${ids.MY_KEY}.yaml`)
    // Still valid YAML (a comment), and the same record: only its size gives it away.
    fs.appendFileSync(record, `# ${'p'.repeat(1 << 20)}\n`)
    const rotate = runLimited(v, ['secrets', 'rotate', '--id', ids.MY_KEY, '--value-stdin', '--json'], 'rotated-oversized')
    assert.match(expectJsonError(rotate, 1, 'vault_tampered').message, new RegExp(`^secrets/${ids.MY_KEY}\\.yaml: is \\d+ bytes; a record is never larger than 1048576 bytes`))
    const report = parseJson(runLimited(v, ['doctor', '--json']))
    assert.ok(report.findings.some((f: DoctorFinding) => f.check === 'records' && f.file === `secrets/${ids.MY_KEY}.yaml`), JSON.stringify(report.findings))
  })
})

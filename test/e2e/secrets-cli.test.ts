/**
 * `aivault secrets ...`, `init` and `status` end to end (SPEC §0-§3, §15), run through the
 * built CLI in temporary folders.
 */
import * as assert from 'node:assert/strict'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {parse as parseYaml} from 'yaml'

import type {CliResult} from './fixture'
import {
  assertCredentialShape,
  ERROR_CODES,
  expectHumanError,
  expectJsonError,
  parseJson,
  REPO_ROOT,
  TempVault,
  useTempVault,
} from './fixture'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/
const SECRET_FIELDS = ['id', 'name', 'aliases', 'scope', 'pinnedProvider', 'attachedGroups', 'systemManaged', 'valueVersion', 'createdAt', 'updatedAt']

/** The provider's capability count, read from the shipped registry file (SPEC §3: N). */
function capabilityCount(provider: string): number {
  const doc = parseYaml(fs.readFileSync(path.join(REPO_ROOT, 'registry', `${provider}.yaml`), 'utf8'))
  return doc.capabilities.length
}

function capabilitiesText(n: number): string {
  return n === 1 ? '1 capability' : `${n} capabilities`
}

function lines(stdout: string): string[] {
  return stdout.replace(/\n$/, '').split('\n')
}

function assertSecretShape(secret: any): void {
  const text = JSON.stringify(secret)
  for (const field of SECRET_FIELDS) assert.ok(field in secret, `secret lacks ${field}: ${text}`)
  assert.match(secret.id, UUID)
  assert.equal(typeof secret.name, 'string')
  assert.ok(Array.isArray(secret.aliases), text)
  assert.equal(typeof secret.scope?.type, 'string', text)
  assert.ok(secret.pinnedProvider === null || typeof secret.pinnedProvider === 'string', text)
  assert.ok(Array.isArray(secret.attachedGroups), text)
  assert.equal(typeof secret.systemManaged, 'boolean', text)
  assert.ok(Number.isInteger(secret.valueVersion) && secret.valueVersion >= 1, text)
  assert.match(secret.createdAt, ISO_UTC)
  assert.match(secret.updatedAt, ISO_UTC)
  assert.ok(!('sealed' in secret) && !('value' in secret), `metadata only: ${text}`)
}

/** `secrets create|rotate|update` JSON (SPEC §15). */
function assertChangeShape(body: any): void {
  for (const field of ['secret', 'credential', 'waitingFor', 'capabilitiesEnabled']) assert.ok(field in body, `lacks ${field}: ${JSON.stringify(body)}`)
  assertSecretShape(body.secret)
  if (body.credential !== null) assertCredentialShape(body.credential)
  assert.ok(Array.isArray(body.waitingFor))
  assert.ok(Number.isInteger(body.capabilitiesEnabled))
}

function secretFile(tv: TempVault, id: string): string {
  return path.join(tv.root, 'secrets', `${id}.yaml`)
}

function listJson(tv: TempVault): any[] {
  const result = tv.run(['secrets', 'list', '--json'])
  assert.equal(result.status, 0, result.stderr)
  return parseJson(result).secrets
}

function credentialsJson(tv: TempVault): any[] {
  const result = tv.run(['credential', 'list', '--json'])
  assert.equal(result.status, 0, result.stderr)
  return parseJson(result).credentials
}

function createJson(tv: TempVault, args: string[], input?: string): any {
  const result = tv.run(['secrets', 'create', ...args, '--json'], input === undefined ? {} : {input})
  assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`)
  return parseJson(result)
}

describe('secrets CLI: creating and provisioning (SPEC §3)', () => {
  const vault = useTempVault()

  it('pins a provider-claimed name, auto-provisions its credential and prints the exact lines', () => {
    const tv = vault()
    const openai = capabilityCount('openai')
    assert.equal(openai, 20, 'the shipped openai registry has 20 capabilities')
    const out = tv.ok(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin'], {input: 'sk-test-openai'})
    assert.deepEqual(lines(out), ['Secret created: OPENAI_API_KEY (pinned to provider: openai)', `Credential auto-provisioned: openai (${openai} capabilities enabled)`])

    const mine = tv.ok(['secrets', 'create', '--name', 'MY_KEY', '--value', 'my-value'])
    assert.deepEqual(lines(mine), ['Secret created: MY_KEY'])

    const secrets = listJson(tv)
    const byName = Object.fromEntries(secrets.map((s) => [s.name, s]))
    assert.equal(byName.OPENAI_API_KEY.pinnedProvider, 'openai')
    assert.equal(byName.MY_KEY.pinnedProvider, null)
    const credentials = credentialsJson(tv)
    assert.deepEqual(
      credentials.map((c) => c.id),
      ['openai'],
    )
    assert.deepEqual(credentials[0].secretRefs, {secret: `vault:secret:${byName.OPENAI_API_KEY.id}`})
    assert.equal(credentials[0].provider, 'openai')
  })

  it('multi-secret trello: waits for TRELLO_TOKEN, then one credential references both secrets by placeholder', () => {
    const tv = vault()
    const first = tv.ok(['secrets', 'create', '--name', 'TRELLO_API_KEY', '--value', 'trello-key-value'])
    assert.deepEqual(lines(first), ['Secret created: TRELLO_API_KEY (pinned to provider: trello)', 'Waiting for TRELLO_TOKEN to complete trello credential'])
    const second = tv.ok(['secrets', 'create', '--name', 'TRELLO_TOKEN', '--value-stdin'], {input: 'trello-token-value'})
    assert.deepEqual(lines(second), [
      'Secret created: TRELLO_TOKEN (pinned to provider: trello)',
      `Credential auto-provisioned: trello (${capabilitiesText(capabilityCount('trello'))} enabled)`,
    ])

    const secrets = listJson(tv)
    assert.deepEqual(secrets.map((s) => s.name).sort(), ['TRELLO_API_KEY', 'TRELLO_TOKEN'], 'no composite secret is copied')
    const id = (name: string) => secrets.find((s) => s.name === name).id
    const credentials = credentialsJson(tv)
    assert.deepEqual(
      credentials.map((c) => c.id),
      ['trello'],
    )
    assertCredentialShape(credentials[0])
    assert.deepEqual(credentials[0].secretRefs, {key: `vault:secret:${id('TRELLO_API_KEY')}`, token: `vault:secret:${id('TRELLO_TOKEN')}`})
  })

  it('twilio with only the account SID waits for TWILIO_AUTH_TOKEN (human and JSON)', () => {
    const tv = vault()
    const out = tv.ok(['secrets', 'create', '--name', 'TWILIO_ACCOUNT_SID', '--value', 'AC-test-sid'])
    assert.deepEqual(lines(out), ['Secret created: TWILIO_ACCOUNT_SID (pinned to provider: twilio)', 'Waiting for TWILIO_AUTH_TOKEN to complete twilio credential'])
    const body = createJson(tv, ['--name', 'TWILIO_ACCOUNT_SID', '--value', 'AC-ws-sid', '--scope', 'workspace', '--workspace-id', 'team'])
    assertChangeShape(body)
    assert.equal(body.credential, null)
    assert.deepEqual(body.waitingFor, ['TWILIO_AUTH_TOKEN'])
    assert.equal(body.capabilitiesEnabled, 0)
    assert.deepEqual(credentialsJson(tv), [])
  })

  it('scoped secrets provision scoped credential ids (openai:ws:personal, openai:group:w:g)', () => {
    const tv = vault()
    const n = capabilitiesText(capabilityCount('openai'))
    const ws = tv.ok(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value', 'sk-ws', '--scope', 'workspace', '--workspace-id', 'personal'])
    assert.deepEqual(lines(ws), ['Secret created: OPENAI_API_KEY (pinned to provider: openai)', `Credential auto-provisioned: openai:ws:personal (${n} enabled)`])
    const group = tv.ok(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value', 'sk-group', '--scope', 'group', '--workspace-id', 'w', '--group-id', 'g'])
    assert.deepEqual(lines(group), ['Secret created: OPENAI_API_KEY (pinned to provider: openai)', `Credential auto-provisioned: openai:group:w:g (${n} enabled)`])

    const secrets = listJson(tv)
    assert.equal(secrets.length, 2)
    for (const s of secrets) assertSecretShape(s)
    const scopes = secrets.map((s) => s.scope)
    assert.deepEqual(
      [...scopes].sort((a, b) => a.type.localeCompare(b.type)),
      [
        {type: 'group', workspaceId: 'w', groupId: 'g'},
        {type: 'workspace', workspaceId: 'personal'},
      ],
    )
    const credentials = credentialsJson(tv)
    const byId = Object.fromEntries(credentials.map((c) => [c.id, c]))
    assert.deepEqual(Object.keys(byId).sort(), ['openai:group:w:g', 'openai:ws:personal'])
    assert.equal(byId['openai:ws:personal'].workspaceId, 'personal')
    assert.equal(byId['openai:ws:personal'].groupId, null)
    assert.equal(byId['openai:group:w:g'].workspaceId, 'w')
    assert.equal(byId['openai:group:w:g'].groupId, 'g')
    const wsSecret = secrets.find((s) => s.scope.type === 'workspace')
    assert.deepEqual(byId['openai:ws:personal'].secretRefs, {secret: `vault:secret:${wsSecret.id}`})
    // The credential files encode ':' in their names but exist one per credential.
    assert.equal(fs.readdirSync(path.join(tv.root, 'credentials')).filter((f) => f.endsWith('.yaml')).length, 2)
  })

  it('create and list JSON have the SPEC §15 shapes; -v prints the same JSON as --json', () => {
    const tv = vault()
    const pinned = createJson(tv, ['--name', 'OPENAI_API_KEY', '--value', 'sk-json'])
    assertChangeShape(pinned)
    assert.equal(pinned.secret.name, 'OPENAI_API_KEY')
    assert.equal(pinned.secret.pinnedProvider, 'openai')
    assert.deepEqual(pinned.secret.scope, {type: 'global'})
    assert.deepEqual(pinned.secret.aliases, [])
    assert.deepEqual(pinned.secret.attachedGroups, [])
    assert.equal(pinned.secret.systemManaged, false)
    assert.equal(pinned.secret.valueVersion, 1)
    assert.equal(pinned.secret.createdAt, pinned.secret.updatedAt)
    assert.equal(pinned.credential.id, 'openai')
    assert.equal(pinned.credential.provider, 'openai')
    assert.deepEqual(pinned.credential.secretRefs, {secret: `vault:secret:${pinned.secret.id}`})
    assert.deepEqual(pinned.waitingFor, [])
    assert.equal(pinned.capabilitiesEnabled, capabilityCount('openai'))

    const verbose = tv.run(['secrets', 'create', '--name', 'MY_KEY', '--value', 'x', '--alias', 'MY_ALIAS', '-v'])
    assert.equal(verbose.status, 0, verbose.stderr)
    const plain = parseJson(verbose)
    assertChangeShape(plain)
    assert.equal(plain.credential, null)
    assert.deepEqual(plain.waitingFor, [])
    assert.equal(plain.capabilitiesEnabled, 0)
    assert.deepEqual(plain.secret.aliases, ['MY_ALIAS'])

    const asJson = tv.run(['secrets', 'list', '--json'])
    const asVerbose = tv.run(['secrets', 'list', '-v'])
    assert.equal(asJson.status, 0)
    assert.equal(asVerbose.stdout, asJson.stdout)
    const listed = parseJson(asJson)
    assert.deepEqual(Object.keys(listed), ['secrets'])
    assert.deepEqual(
      listed.secrets.map((s: any) => s.id),
      [plain.secret.id, pinned.secret.id],
    )
    for (const s of listed.secrets) assertSecretShape(s)
    assert.deepEqual(listed.secrets[1], pinned.secret)

    const statusJson = tv.run(['status', '--json'])
    const statusVerbose = tv.run(['status', '--verbose'])
    assert.equal(statusVerbose.stdout, statusJson.stdout)
    assert.equal(parseJson(statusVerbose).initialized, true)
  })

  it('--value-file and --value-stdin work; a lone newline on stdin is stripped to an empty value', () => {
    const tv = vault()
    const inputs = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-input-'))
    try {
      const file = path.join(inputs, 'value.txt')
      fs.writeFileSync(file, 'from-a-file\n')
      const fromFile = createJson(tv, ['--name', 'FROM_FILE', '--value-file', file])
      assert.equal(fromFile.secret.name, 'FROM_FILE')
      assert.equal(fromFile.secret.valueVersion, 1)
      const fromStdin = createJson(tv, ['--name', 'FROM_STDIN', '--value-stdin'], 'from-stdin\n')
      assert.equal(fromStdin.secret.name, 'FROM_STDIN')
      // "\n" alone becomes the empty value once the trailing newline is stripped: refused.
      const before = tv.snapshot()
      const lone = tv.run(['secrets', 'create', '--name', 'ONLY_NEWLINE', '--value-stdin'], {input: '\n'})
      expectHumanError(lone, 1)
      assert.deepEqual(tv.snapshot(), before)
      assert.deepEqual(
        listJson(tv)
          .map((s) => s.name)
          .sort(),
        ['FROM_FILE', 'FROM_STDIN'],
      )
    } finally {
      fs.rmSync(inputs, {recursive: true, force: true})
    }
  })

  it('secrets list is sorted by name and ends with a count line', () => {
    const tv = vault()
    tv.ok(['secrets', 'create', '--name', 'B_KEY', '--value', 'b'])
    const one = lines(tv.ok(['secrets', 'list']))
    assert.equal(one[one.length - 1], '1 secret')
    assert.ok(one.some((l) => l.includes('B_KEY')))
    tv.ok(['secrets', 'create', '--name', 'C_KEY', '--value', 'c'])
    tv.ok(['secrets', 'import', '--entry', 'A_KEY=a'])
    const three = lines(tv.ok(['secrets', 'list']))
    assert.equal(three[three.length - 1], '3 secrets')
    const rowOf = (name: string) => three.findIndex((l) => new RegExp(`(^|\\s)${name}(\\s|$)`).test(l))
    assert.ok(rowOf('A_KEY') !== -1 && rowOf('A_KEY') < rowOf('B_KEY') && rowOf('B_KEY') < rowOf('C_KEY'), three.join('\n'))
    assert.deepEqual(
      listJson(tv).map((s) => s.name),
      ['A_KEY', 'B_KEY', 'C_KEY'],
    )
  })
})

describe('secrets CLI: rotate, update, groups, delete, import (SPEC §3, §15)', () => {
  const vault = useTempVault()

  it('rotate bumps valueVersion with fresh sealed bytes and keeps the metadata', () => {
    const tv = vault()
    const created = createJson(tv, ['--name', 'MY_KEY', '--value', 'v1-value'])
    const id = created.secret.id
    const before = parseYaml(fs.readFileSync(secretFile(tv, id), 'utf8'))
    const rotated = tv.run(['secrets', 'rotate', '--id', id, '--value-stdin', '--json'], {input: 'v2-value'})
    assert.equal(rotated.status, 0, rotated.stderr)
    const body = parseJson(rotated)
    assertChangeShape(body)
    assert.equal(body.secret.id, id)
    assert.equal(body.secret.valueVersion, 2)
    assert.equal(body.secret.createdAt, created.secret.createdAt)
    assert.equal(body.secret.name, 'MY_KEY')
    assert.ok(body.secret.updatedAt >= created.secret.updatedAt)
    const after = parseYaml(fs.readFileSync(secretFile(tv, id), 'utf8'))
    assert.notEqual(after.sealed.ciphertext, before.sealed.ciphertext)
    assert.notEqual(after.sealed.dek.ciphertext, before.sealed.dek.ciphertext, 'a fresh data key')
    assert.notEqual(after.sealed.nonce, before.sealed.nonce)
    // Addressing by name works too.
    tv.ok(['secrets', 'rotate', '--name', 'MY_KEY', '--value', 'v3-value'])
    assert.equal(listJson(tv)[0].valueVersion, 3)
  })

  it('update sets sorted aliases; an idempotent update leaves bytes and updatedAt unchanged; aliases are unique with names', () => {
    const tv = vault()
    const id = createJson(tv, ['--name', 'MY_KEY', '--value', 'v'])
      .secret.id
    const first = tv.run(['secrets', 'update', '--id', id, '--alias', 'ZED_ALIAS', '--alias', 'ALPHA_ALIAS', '--json'])
    assert.equal(first.status, 0, first.stderr)
    const body = parseJson(first)
    assertChangeShape(body)
    assert.deepEqual(body.secret.aliases, ['ALPHA_ALIAS', 'ZED_ALIAS'])
    const bytes = fs.readFileSync(secretFile(tv, id))

    const again = tv.run(['secrets', 'update', '--id', id, '--alias', 'ALPHA_ALIAS', '--json'])
    assert.equal(again.status, 0, again.stderr)
    const same = parseJson(again)
    assert.deepEqual(same.secret.aliases, ['ALPHA_ALIAS', 'ZED_ALIAS'])
    assert.equal(same.secret.updatedAt, body.secret.updatedAt)
    assert.ok(fs.readFileSync(secretFile(tv, id)).equals(bytes), 'idempotent update rewrote the record')

    // An alias is taken within the scope: a new secret cannot use it as its name.
    const snap = tv.snapshot()
    expectJsonError(tv.run(['secrets', 'create', '--name', 'ALPHA_ALIAS', '--value', 'x', '--json']), 1, 'conflict')
    assert.deepEqual(tv.snapshot(), snap)

    const cleared = parseJson(tv.run(['secrets', 'update', '--id', id, '--clear-aliases', '--json']))
    assert.deepEqual(cleared.secret.aliases, [])
  })

  it('attach-group and detach-group are idempotent (bytes unchanged on repeat)', () => {
    const tv = vault()
    const id = createJson(tv, ['--name', 'MY_KEY', '--value', 'v']).secret.id
    const file = secretFile(tv, id)
    const attach = ['secrets', 'attach-group', '--id', id, '--workspace-id', 'w', '--group-id', 'g', '--json']
    const attached = tv.run(attach)
    assert.equal(attached.status, 0, attached.stderr)
    assert.deepEqual(parseJson(attached).secret.attachedGroups, [{workspaceId: 'w', groupId: 'g'}])
    const bytes = fs.readFileSync(file)
    const repeat = tv.run(attach)
    assert.equal(repeat.status, 0, repeat.stderr)
    assert.deepEqual(parseJson(repeat).secret.attachedGroups, [{workspaceId: 'w', groupId: 'g'}])
    assert.ok(fs.readFileSync(file).equals(bytes), 'attaching an attached group rewrote the record')

    const detach = ['secrets', 'detach-group', '--id', id, '--workspace-id', 'w', '--group-id', 'g', '--json']
    const detached = tv.run(detach)
    assert.equal(detached.status, 0, detached.stderr)
    assert.deepEqual(parseJson(detached).secret.attachedGroups, [])
    const detachedBytes = fs.readFileSync(file)
    assert.ok(!detachedBytes.equals(bytes))
    tv.ok(detach)
    assert.ok(fs.readFileSync(file).equals(detachedBytes), 'detaching a detached group rewrote the record')
  })

  it('delete cascades to the auto-provisioned credential, lists what it removed, and frees the name', () => {
    const tv = vault()
    const first = createJson(tv, ['--name', 'OPENAI_API_KEY', '--value', 'sk-first'])
    const id = first.secret.id
    const out = tv.ok(['secrets', 'delete', '--id', id])
    assert.deepEqual(lines(out), [`Deleted secret OPENAI_API_KEY (${id})`, 'Removed credential openai'])
    assert.ok(!fs.existsSync(secretFile(tv, id)))
    assert.deepEqual(credentialsJson(tv), [])

    const again = tv.ok(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value', 'sk-second'])
    assert.match(again, /^Credential auto-provisioned: openai \(/m)
    const del = tv.run(['secrets', 'delete', '--name', 'OPENAI_API_KEY', '--json'])
    assert.equal(del.status, 0, del.stderr)
    const body = parseJson(del)
    assertSecretShape(body.deleted)
    assert.equal(body.deleted.name, 'OPENAI_API_KEY')
    assert.notEqual(body.deleted.id, id)
    assert.deepEqual(body.removed, {credentials: ['openai'], bindings: []})
    assert.deepEqual(listJson(tv), [])
  })

  it('importing both trello secrets provisions trello; deleting one component removes the credential', () => {
    const tv = vault()
    const imported = tv.ok(['secrets', 'import', '--entry', 'TRELLO_API_KEY=k', '--entry', 'TRELLO_TOKEN=t'])
    // Each imported entry is handled as "create": the completed provider is provisioned and said so.
    assert.ok(lines(imported).includes(`Credential auto-provisioned: trello (${capabilitiesText(capabilityCount('trello'))} enabled)`), imported)
    assert.deepEqual(
      credentialsJson(tv).map((c) => c.id),
      ['trello'],
    )
    const out = lines(tv.ok(['secrets', 'delete', '--name', 'TRELLO_TOKEN']))
    assert.match(out[0], /^Deleted secret TRELLO_TOKEN \([0-9a-f-]{36}\)$/)
    assert.deepEqual(out.slice(1), ['Removed credential trello'])
    assert.deepEqual(credentialsJson(tv), [])
  })

  it('import from --entry and from a dotenv file: created, rotated, skipped with reasons', () => {
    const tv = vault()
    const existing = createJson(tv, ['--name', 'EXISTING', '--value', 'old'])
    const human = tv.ok(['secrets', 'import', '--entry', 'NEW_ONE=n1', '--entry', 'EXISTING=e2', '--entry', 'EMPTY_ONE='])
    const out = lines(human)
    assert.ok(
      out.some((l) => /created/i.test(l) && l.includes('NEW_ONE')),
      human,
    )
    assert.ok(
      out.some((l) => /rotated/i.test(l) && l.includes('EXISTING')),
      human,
    )
    assert.ok(
      out.some((l) => /skipped/i.test(l) && l.includes('EMPTY_ONE') && /empty/i.test(l)),
      human,
    )
    const afterEntries = listJson(tv)
    assert.deepEqual(afterEntries.map((s) => s.name), ['EXISTING', 'NEW_ONE'])
    assert.equal(afterEntries[0].id, existing.secret.id)
    assert.equal(afterEntries[0].valueVersion, 2, 'importing an existing name rotates it')

    const inputs = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-input-'))
    try {
      const envFile = path.join(inputs, '.env')
      fs.writeFileSync(
        envFile,
        [
          '# a comment',
          '# COMMENTED_OUT=never',
          'export DOT_EXPORTED=plain',
          'DOT_DOUBLE="double quoted value"',
          "DOT_SINGLE='single quoted value'",
          'DOT_EMPTY_QUOTED=""',
          '',
          'EXISTING=third',
          '1BAD=x',
          'OPENAI_API_KEY=sk-from-dotenv',
          '',
        ].join('\n'),
      )
      const result = tv.run(['secrets', 'import', '--from-env-file', envFile, '--json'])
      assert.equal(result.status, 0, result.stderr)
      const body = parseJson(result)
      for (const field of ['created', 'rotated', 'skipped']) assert.ok(Array.isArray(body[field]), `${field}: ${result.stdout}`)
      assert.deepEqual([...body.created].sort(), ['DOT_DOUBLE', 'DOT_EXPORTED', 'DOT_SINGLE', 'OPENAI_API_KEY'])
      assert.deepEqual(body.rotated, ['EXISTING'])
      const skipped = Object.fromEntries(body.skipped.map((s: any) => [s.name, s.reason]))
      assert.deepEqual(Object.keys(skipped).sort(), ['1BAD', 'DOT_EMPTY_QUOTED'])
      for (const reason of Object.values(skipped)) assert.ok(typeof reason === 'string' && reason.length > 3)
      assert.ok(!result.stdout.includes('COMMENTED_OUT'))
    } finally {
      fs.rmSync(inputs, {recursive: true, force: true})
    }
    const final = listJson(tv)
    assert.deepEqual(final.map((s) => s.name), ['DOT_DOUBLE', 'DOT_EXPORTED', 'DOT_SINGLE', 'EXISTING', 'NEW_ONE', 'OPENAI_API_KEY'])
    assert.equal(final.find((s) => s.name === 'EXISTING').valueVersion, 3)
    assert.equal(final.find((s) => s.name === 'OPENAI_API_KEY').pinnedProvider, 'openai')
    // Each entry is handled as "create": the pinned name provisioned its credential.
    assert.deepEqual(
      credentialsJson(tv).map((c) => c.id),
      ['openai'],
    )
  })
})

describe('secrets CLI: no plaintext anywhere (SPEC §1)', () => {
  const vault = useTempVault()

  it('values never reach the vault, keys folder, audit, caches or any output', () => {
    const tv = vault()
    const tag = crypto.randomBytes(6).toString('hex')
    const value = (label: string) => `PT${label}${tag}${crypto.randomBytes(6).toString('hex')}`
    const values = {
      flag: value('flag'),
      stdin: value('stdin'),
      file: value('file'),
      rotate: value('rotate'),
      entry: value('entry'),
      dotenv: value('dotenv'),
      pinned: value('pinned'),
      trello: value('trello'),
      conflict: value('conflict'),
      noEquals: value('noequals'),
    }
    const outputs: CliResult[] = []
    const run = (args: string[], input?: string) => {
      const result = tv.run(args, input === undefined ? {} : {input})
      outputs.push(result)
      return result
    }
    const inputs = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-input-'))
    try {
      const valueFile = path.join(inputs, 'value')
      fs.writeFileSync(valueFile, values.file)
      const envFile = path.join(inputs, '.env')
      fs.writeFileSync(envFile, `export DOT_SECRET="${values.dotenv}"\n`)

      assert.equal(run(['secrets', 'create', '--name', 'FLAG_SECRET', '--value', values.flag]).status, 0)
      assert.equal(run(['secrets', 'create', '--name', 'STDIN_SECRET', '--value-stdin', '--json'], values.stdin).status, 0)
      assert.equal(run(['secrets', 'create', '--name', 'FILE_SECRET', '--value-file', valueFile]).status, 0)
      assert.equal(run(['secrets', 'rotate', '--name', 'FLAG_SECRET', '--value', values.rotate, '--json']).status, 0)
      assert.equal(run(['secrets', 'import', '--entry', `ENTRY_SECRET=${values.entry}`, '--entry', `TRELLO_API_KEY=${values.trello}`]).status, 0)
      assert.equal(run(['secrets', 'import', '--from-env-file', envFile, '--json']).status, 0)
      assert.equal(run(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value', values.pinned, '-v']).status, 0)
      assert.equal(run(['secrets', 'create', '--name', 'FLAG_SECRET', '--value', values.conflict]).status, 1)
      assert.equal(run(['secrets', 'create', '--name', 'FLAG_SECRET', '--value', values.conflict, '--json']).status, 1)
      assert.equal(run(['secrets', 'import', '--entry', values.noEquals]).status, 2)
      assert.equal(run(['secrets', 'import', '--entry', values.noEquals, '--json']).status, 2)
      for (const args of [['secrets', 'list'], ['secrets', 'list', '--json'], ['credential', 'list', '--json'], ['status', '--json'], ['audit'], ['audit', '--json'], ['doctor', '--json']]) {
        assert.equal(run(args).status, 0, args.join(' '))
      }
    } finally {
      fs.rmSync(inputs, {recursive: true, force: true})
    }
    const everything = tv.allText() + '\n' + outputs.map((o) => o.stdout + '\n' + o.stderr).join('\n')
    assert.ok(everything.includes('FLAG_SECRET'), 'sanity: the text we search is the real one')
    for (const [label, v] of Object.entries(values)) {
      const forms = [v, Buffer.from(v).toString('base64').replace(/=+$/, ''), Buffer.from(v).toString('hex')]
      for (const form of forms) assert.ok(!everything.includes(form), `${label} value found in plaintext (${form === v ? 'raw' : 'encoded'})`)
    }
    // The tag itself is common to every value: no fragment of any value leaked either.
    assert.ok(!everything.includes(tag), 'a fragment of a value leaked')
  })
})

describe('vault folder, init and status (SPEC §1, §2, §15)', () => {
  const vault = useTempVault()

  it('folders are 0700, files 0600, the key lives outside the vault, .gitignore keeps run/ audit/ *.tmp out', () => {
    const tv = vault()
    tv.ok(['init'])
    tv.ok(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value', 'sk-perm'])
    tv.ok(['secrets', 'attach-group', '--name', 'OPENAI_API_KEY', '--workspace-id', 'w', '--group-id', 'g'])
    const status = parseJson(tv.run(['status', '--json']))
    const walk = (dir: string, visit: (file: string, isDir: boolean) => void) => {
      for (const entry of fs.readdirSync(dir, {withFileTypes: true})) {
        const full = path.join(dir, entry.name)
        visit(full, entry.isDirectory())
        if (entry.isDirectory()) walk(full, visit)
      }
    }
    const seen: string[] = []
    const mode = (file: string) => (fs.statSync(file).mode & 0o777).toString(8)
    assert.equal(mode(tv.root), '700')
    walk(tv.root, (file, isDir) => {
      seen.push(path.relative(tv.root, file))
      assert.equal(mode(file), isDir ? '700' : '600', `${path.relative(tv.root, file)}`)
    })
    for (const expected of ['vault.yaml', '.gitignore', 'secrets', 'credentials', path.join('credentials', 'openai.yaml')]) {
      assert.ok(seen.includes(expected), `${expected} in ${seen.join(', ')}`)
    }

    const keyFile: string = status.paths.keyFile
    assert.equal(path.dirname(keyFile), path.resolve(tv.keysDir))
    assert.equal(path.basename(keyFile), `${status.vaultId}.key`)
    assert.ok(path.relative(path.resolve(tv.root), keyFile).startsWith('..'), 'key outside the vault')
    assert.equal(mode(keyFile), '600')
    const key = fs.readFileSync(keyFile, 'utf8').trim()
    assert.equal(Buffer.from(key, 'base64').length, 32)
    const vaultText: string[] = []
    walk(tv.root, (file, isDir) => {
      if (!isDir) vaultText.push(fs.readFileSync(file, 'latin1'))
    })
    assert.ok(!vaultText.join('\n').includes(key), 'the key is not inside the vault folder')

    const ignore = fs.readFileSync(path.join(tv.root, '.gitignore'), 'utf8').split('\n').map((l) => l.trim())
    for (const entry of ['run/', 'audit/', '*.tmp']) assert.ok(ignore.includes(entry), `.gitignore has ${entry}: ${ignore.join('|')}`)
  })

  it('status, lists and audit on a missing vault report it and create nothing', () => {
    const tv = vault()
    const result = tv.run(['status', '--json'])
    assert.equal(result.status, 0, result.stderr)
    const status = parseJson(result)
    assert.equal(status.initialized, false)
    for (const field of ['vaultId', 'provider', 'locked', 'kekId', 'testing', 'paths', 'counts', 'daemon']) assert.ok(field in status, field)
    assert.equal(status.paths.root, tv.root)
    assert.deepEqual(status.counts, {secrets: 0, credentials: 0, capabilities: 0})
    assert.equal(status.daemon.running, false)
    const human = tv.run(['status'])
    assert.equal(human.status, 0)
    assert.match(human.stdout + human.stderr, /aivault init/, 'a hint on how to create the vault')
    assert.deepEqual(parseJson(tv.run(['secrets', 'list', '--json'])), {secrets: []})
    assert.deepEqual(parseJson(tv.run(['credential', 'list', '--json'])), {credentials: []})
    assert.deepEqual(parseJson(tv.run(['audit', '--json'])).events, [])
    assert.ok(!fs.existsSync(tv.root), 'the vault folder was created by a read-only command')
    assert.ok(!fs.existsSync(tv.keysDir) || fs.readdirSync(tv.keysDir).length === 0, 'no key was made')
  })

  it('status on an initialized vault has the SPEC §15 shape', () => {
    const tv = vault()
    tv.ok(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value', 'sk-status'])
    tv.ok(['secrets', 'create', '--name', 'MY_KEY', '--value', 'mine'])
    const status = parseJson(tv.run(['status', '--json']))
    const config = parseYaml(fs.readFileSync(path.join(tv.root, 'vault.yaml'), 'utf8'))
    assert.equal(status.initialized, true)
    assert.equal(status.vaultId, config.vaultId)
    assert.match(status.vaultId, UUID)
    assert.equal(status.provider, 'file')
    assert.equal(status.locked, false)
    assert.equal(typeof status.kekId, 'string')
    assert.ok(status.kekId.length >= 8 && status.kekId.length <= 64)
    assert.equal(status.testing, false)
    assert.deepEqual(Object.keys(status.paths).sort(), ['keyFile', 'root'])
    assert.equal(status.paths.root, tv.root)
    assert.equal(status.paths.keyFile, path.join(tv.keysDir, `${status.vaultId}.key`))
    const key = fs.readFileSync(status.paths.keyFile, 'utf8').trim()
    assert.ok(!JSON.stringify(status).includes(key), 'status never shows the key')
    assert.equal(status.counts.secrets, 2)
    assert.equal(status.counts.credentials, 1)
    assert.ok(Number.isInteger(status.counts.capabilities))
    assert.equal(status.daemon.running, false)
    assert.equal(typeof status.daemon.socket, 'string')
  })

  it('init refuses to re-initialize (conflict, exit 1) and leaves the vault as it was', () => {
    const tv = vault()
    tv.ok(['init'])
    const before = tv.snapshot()
    const keys = fs.readdirSync(tv.keysDir)
    expectHumanError(tv.run(['init']), 1)
    expectJsonError(tv.run(['init', '--testing', '--json']), 1, 'conflict')
    assert.deepEqual(tv.snapshot(), before)
    assert.deepEqual(fs.readdirSync(tv.keysDir), keys)
  })

  it('init --testing marks the vault as a test vault', () => {
    const tv = vault()
    tv.ok(['init', '--testing'])
    assert.equal(parseJson(tv.run(['status', '--json'])).testing, true)
    assert.equal(parseYaml(fs.readFileSync(path.join(tv.root, 'vault.yaml'), 'utf8')).testing, true)
  })

  it('init --provider env needs a valid key in AIVAULT_KEY; keygen makes one', () => {
    const tv = vault()
    const key = tv.ok(['keygen']).trim()
    assert.equal(Buffer.from(key, 'base64').length, 32)
    assert.match(key, /^[A-Za-z0-9+/]{43}=$/)

    expectHumanError(tv.run(['init', '--provider', 'env']), 1)
    assert.ok(!fs.existsSync(path.join(tv.root, 'vault.yaml')))
    expectJsonError(tv.run(['init', '--provider', 'env', '--json'], {env: {AIVAULT_KEY: 'bm90LWEta2V5'}}), 1)
    assert.ok(!fs.existsSync(path.join(tv.root, 'vault.yaml')))

    tv.ok(['init', '--provider', 'env'], {env: {AIVAULT_KEY: key}})
    const created = tv.run(['secrets', 'create', '--name', 'ENV_SECRET', '--value', 'env-value', '--json'], {env: {AIVAULT_KEY: key}})
    assert.equal(created.status, 0, created.stderr)
    const status = parseJson(tv.run(['status', '--json'], {env: {AIVAULT_KEY: key}}))
    assert.equal(status.provider, 'env')
    assert.equal(status.locked, false)
    assert.equal(status.counts.secrets, 1)
    assert.ok(!tv.allText().includes(key), 'an env vault never writes its key to disk')
  })

  it('init --provider passphrase leaves the vault locked; secrets create fails with vault_locked', () => {
    const tv = vault()
    const passphrase = `pass-${crypto.randomBytes(8).toString('hex')}`
    tv.ok(['init', '--provider', 'passphrase', '--passphrase', passphrase])
    const status = parseJson(tv.run(['status', '--json']))
    assert.equal(status.provider, 'passphrase')
    assert.equal(status.locked, true)
    const before = tv.snapshot()
    expectJsonError(tv.run(['secrets', 'create', '--name', 'LOCKED_OUT', '--value', 'v', '--json']), 1, 'vault_locked')
    assert.deepEqual(tv.snapshot(), before)
    assert.ok(!tv.allText().includes(passphrase), 'the passphrase is never stored')
  })
})

/** Each bad command line: exit code, error code (when fixed by SPEC), and a check of the message. */
interface BadCase {
  title: string
  args: (ids: {mine: string; pinned: string; valueFile: string}) => string[]
  exit: number
  code?: string
  message?: RegExp
  notEchoed?: string
  input?: string
}

describe('secrets CLI: bad input (SPEC §0, §15)', () => {
  let tv: TempVault
  let ids: {mine: string; pinned: string; valueFile: string}
  const missingId = '00000000-0000-4000-8000-000000000000'

  before(() => {
    tv = new TempVault()
    const mine = tv.createSecret('MY_KEY', 'mine')
    const pinned = tv.createSecret('OPENAI_API_KEY', 'sk-pinned')
    const valueFile = path.join(tv.base, 'value.txt')
    fs.writeFileSync(valueFile, 'file-value')
    ids = {mine, pinned, valueFile}
  })
  after(() => tv.dispose())

  const cases: BadCase[] = [
    {title: 'unknown flag', args: () => ['secrets', 'create', '--name', 'X_KEY', '--value', 'v', '--bogus'], exit: 2, message: /bogus/},
    {title: 'missing --name', args: () => ['secrets', 'create', '--value', 'v'], exit: 2, message: /name/},
    {title: 'invalid secret name 1BAD', args: () => ['secrets', 'create', '--name', '1BAD', '--value', 'v'], exit: 2, message: /1BAD/},
    {title: 'two value flags', args: (i) => ['secrets', 'create', '--name', 'X_KEY', '--value', 'v', '--value-file', i.valueFile], exit: 2},
    {title: '--scope workspace without --workspace-id', args: () => ['secrets', 'create', '--name', 'X_KEY', '--value', 'v', '--scope', 'workspace'], exit: 2, message: /workspace-id/},
    {
      title: '--entry without "=" (not echoed)',
      args: () => ['secrets', 'import', '--entry', 'NOEQUALS_sk-do-not-echo-me'],
      exit: 2,
      notEchoed: 'sk-do-not-echo-me',
    },
    {title: 'duplicate name in the same scope', args: () => ['secrets', 'create', '--name', 'MY_KEY', '--value', 'v'], exit: 1, code: 'conflict'},
    {title: 'rotate an unknown id', args: () => ['secrets', 'rotate', '--id', missingId, '--value', 'v'], exit: 1, code: 'secret_not_found'},
    {title: 'delete an unknown id', args: () => ['secrets', 'delete', '--id', missingId], exit: 1, code: 'secret_not_found'},
    {title: 'rename a pinned secret', args: (i) => ['secrets', 'update', '--id', i.pinned, '--name', 'RENAMED_KEY'], exit: 1, code: 'policy_violation'},
    {title: '--value-file of a missing file', args: (i) => ['secrets', 'create', '--name', 'X_KEY', '--value-file', path.join(path.dirname(i.valueFile), 'nope.txt')], exit: 1},
    {title: 'empty value', args: () => ['secrets', 'create', '--name', 'X_KEY', '--value', ''], exit: 1},
    {title: 'empty value on stdin', args: () => ['secrets', 'create', '--name', 'X_KEY', '--value-stdin'], input: '', exit: 1},
  ]

  for (const c of cases) {
    it(`${c.title}: exit ${c.exit}, one Error line, JSON error, vault unchanged`, () => {
      const before = tv.snapshot()
      const args = c.args(ids)
      const options = c.input === undefined ? {} : {input: c.input}
      const human = tv.run(args, options)
      const message = expectHumanError(human, c.exit)
      if (c.message) assert.match(message, c.message)
      const json = tv.run([...args, '--json'], options)
      const error = expectJsonError(json, c.exit, c.code)
      assert.ok(ERROR_CODES.includes(error.code), `stable error code: ${error.code}`)
      if (c.notEchoed) {
        for (const text of [human.stdout, human.stderr, json.stdout, json.stderr]) assert.ok(!text.includes(c.notEchoed), `echoed: ${text}`)
      }
      assert.deepEqual(tv.snapshot(), before)
    })
  }

  it('command-line errors on a missing vault create nothing', () => {
    const fresh = new TempVault()
    try {
      expectHumanError(fresh.run(['secrets', 'create', '--name', '1BAD', '--value', 'v']), 2)
      expectJsonError(fresh.run(['secrets', 'rotate', '--id', missingId, '--value', 'v', '--json']), 1, 'secret_not_found')
      assert.ok(!fs.existsSync(fresh.root))
    } finally {
      fresh.dispose()
    }
  })

  it('a malformed record is reported by name and skipped; the others still list', () => {
    const broken = new TempVault()
    try {
      const good = broken.createSecret('GOOD_KEY', 'good')
      broken.createSecret('OTHER_KEY', 'other')
      const badName = `${crypto.randomUUID()}.yaml`
      const original = fs.readFileSync(path.join(broken.root, 'secrets', `${good}.yaml`), 'utf8')
      fs.writeFileSync(path.join(broken.root, 'secrets', badName), original.slice(0, 40) + '\n  : [unclosed {{\n\tgarbage: "', {mode: 0o600})
      const human = broken.run(['secrets', 'list'])
      assert.equal(human.status, 0, human.stderr)
      assert.ok(human.stderr.includes(`secrets/${badName}`), human.stderr)
      assert.ok(!/\n\s+at .+:\d+:\d+/.test(human.stderr), 'no stack trace')
      const out = lines(human.stdout)
      assert.equal(out[out.length - 1], '2 secrets')
      const json = broken.run(['secrets', 'list', '--json'])
      assert.equal(json.status, 0)
      assert.deepEqual(
        parseJson(json).secrets.map((s: any) => s.name),
        ['GOOD_KEY', 'OTHER_KEY'],
      )
      assert.ok(json.stderr.includes(`secrets/${badName}`), json.stderr)
    } finally {
      broken.dispose()
    }
  })
})

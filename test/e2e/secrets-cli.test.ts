/**
 * `aivault secrets` creating and provisioning, no plaintext on disk, and bad input (SPEC §0,
 * §1, §3, §15), run through the built CLI in temporary folders. Rotation, groups, delete and
 * import: secrets-lifecycle-cli.test.ts; `init` and `status`: vault-init-cli.test.ts.
 */
import * as assert from 'node:assert/strict'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import type {CliResult} from './fixture'
import {assertCredentialShape, ERROR_CODES, expectHumanError, expectJsonError, parseJson, TempVault, useTempVault} from './fixture'
import {assertChangeShape, assertSecretShape, capabilitiesText, capabilityCount, createJson, credentialsJson, lines, listJson} from './secrets-helpers'

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

    // One text form for a scope in lists and messages (scopeLabel): group:<w>/<g>.
    const scopeColumn = (out: string) => lines(out).filter((l) => l.includes('OPENAI_API_KEY') || l.startsWith('openai')).map((l) => l.split(/\s{2,}/).find((cell) => /^(global|workspace:|group:)/.test(cell)))
    assert.deepEqual(scopeColumn(tv.ok(['secrets', 'list'])).sort(), ['group:w/g', 'workspace:personal'])
    assert.deepEqual(scopeColumn(tv.ok(['credential', 'list'])).sort(), ['group:w/g', 'workspace:personal'])
    const ambiguous = expectJsonError(tv.run(['secrets', 'delete', '--name', 'OPENAI_API_KEY', '--json']), 1, 'invalid_request')
    assert.match(ambiguous.message, /^2 secrets are named OPENAI_API_KEY: [0-9a-f-]{36} in \S+, [0-9a-f-]{36} in \S+$/)
    assert.deepEqual([...ambiguous.message.matchAll(/ in (\S+?)(?:,|$)/g)].map((m) => m[1]).sort(), ['group:w/g', 'workspace:personal'])
    const missing = expectJsonError(tv.run(['secrets', 'delete', '--name', 'OPENAI_API_KEY', '--scope', 'group', '--workspace-id', 'w', '--group-id', 'other', '--json']), 1, 'secret_not_found')
    assert.equal(missing.message, 'no secret named OPENAI_API_KEY in scope group:w/other')
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

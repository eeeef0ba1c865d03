/**
 * Commands that say what happened (issue 16, item 8): idempotent changes say so, conflicts name
 * the secret that holds the name, unknown things are errors, counts read as English, and
 * columns line up. Run through the built CLI in temporary folders.
 */
import * as assert from 'node:assert/strict'

import {expectHumanError, expectJsonError, parseJson, useTempVault} from './fixture'

const lines = (text: string) => text.replace(/\n$/, '').split('\n')

describe('CLI messages: commands say what happened (issue 16 item 8)', () => {
  const vault = useTempVault()

  it('attach-group and detach-group say when nothing changed', () => {
    const tv = vault()
    const id = tv.createSecret('MY_KEY', 'v1')
    const group = ['--workspace-id', 'team', '--group-id', 'backend']
    assert.deepEqual(lines(tv.ok(['secrets', 'attach-group', '--id', id, ...group])), ['Attached MY_KEY to group:team/backend'])
    assert.deepEqual(lines(tv.ok(['secrets', 'attach-group', '--id', id, ...group])), ['MY_KEY was already attached to group:team/backend'])
    assert.equal(tv.json(['secrets', 'attach-group', '--id', id, ...group]).changed, false)
    assert.deepEqual(lines(tv.ok(['secrets', 'detach-group', '--id', id, ...group])), ['Detached MY_KEY from group:team/backend'])
    assert.deepEqual(lines(tv.ok(['secrets', 'detach-group', '--name', 'MY_KEY', ...group])), ['MY_KEY was not attached to group:team/backend'])
    const json = tv.json(['secrets', 'detach-group', '--id', id, ...group])
    assert.equal(json.changed, false)
    assert.deepEqual(json.secret.attachedGroups, [])
  })

  it('a name or alias conflict names the secret that holds it, with a hint that fits', () => {
    const tv = vault()
    const holder = tv.createSecret('HOLDER', 'v1', ['--alias', 'SHORT'])
    const other = tv.createSecret('OTHER', 'v2')

    // Creating a name another secret has: rotate that one.
    const sameName = tv.run(['secrets', 'create', '--name', 'HOLDER', '--value', 'x'])
    assert.match(expectHumanError(sameName, 1), new RegExp(`^HOLDER is already the name of secret HOLDER \\(${holder}\\) in scope global$`))
    assert.match(sameName.stderr, new RegExp(`Hint: .*aivault secrets rotate --id ${holder}`))

    // An alias another secret has, asked for by update: points at the holder, never at rotate.
    const alias = tv.run(['secrets', 'update', '--id', other, '--alias', 'SHORT'])
    assert.match(expectHumanError(alias, 1), new RegExp(`^SHORT is already an alias of secret HOLDER \\(${holder}\\)`))
    assert.match(alias.stderr, new RegExp(`Hint: choose another alias, or take the alias off HOLDER with "aivault secrets update --id ${holder} --clear-aliases"`))
    assert.doesNotMatch(alias.stderr, /rotate/)

    // Another secret's name as an alias: rename that one, or pick another alias.
    const nameAsAlias = tv.run(['secrets', 'update', '--id', other, '--alias', 'HOLDER'])
    assert.match(expectHumanError(nameAsAlias, 1), /^HOLDER is already the name of secret HOLDER/)
    assert.match(nameAsAlias.stderr, new RegExp(`Hint: choose another alias, or rename HOLDER with "aivault secrets update --id ${holder} --name <new-name>"`))
  })

  it('secrets list --group-id without --workspace-id explains that a group lives in a workspace', () => {
    const tv = vault()
    tv.createSecret('MY_KEY', 'v1')
    const result = tv.run(['secrets', 'list', '--group-id', 'backend'])
    assert.match(expectHumanError(result, 2), /--group-id needs --workspace-id: a group lives inside a workspace/)
    assert.match(result.stderr, /Hint: add --workspace-id <id>/)
    expectJsonError(tv.run(['secrets', 'list', '--group-id', 'backend', '--json']), 2, 'invalid_request')
  })

  it('doctor on a missing vault suggests init', () => {
    const tv = vault()
    const result = tv.run(['doctor'])
    assert.equal(result.status, 1)
    assert.match(result.stdout, new RegExp(`problem: \\[vault\\] no vault at ${tv.root.replace(/[/\\\\.]/g, '\\$&')}`))
    assert.match(result.stdout, /\n {2}fix: aivault init\n/)
  })

  it('capability list --provider with an unknown provider is an error, as providers show is', () => {
    const tv = vault()
    const listed = tv.run(['capability', 'list', '--provider', 'nope'])
    const shown = tv.run(['providers', 'show', 'nope'])
    assert.equal(expectHumanError(listed, 1), expectHumanError(shown, 1))
    assert.equal(listed.stderr, shown.stderr)
    expectJsonError(tv.run(['capability', 'list', '--provider', 'nope', '--json']), 1, 'not_found')
    // A known provider with nothing set up still lists, as before.
    assert.equal(tv.run(['capability', 'list', '--provider', 'openai']).status, 0)
  })

  it('empty lists say so once, with no "0 secrets" line after', () => {
    const tv = vault()
    assert.equal(tv.ok(['secrets', 'list']), 'No secrets.\n')
    assert.equal(tv.ok(['credential', 'list']), 'No credentials.\n')
  })

  it('audit verify counts in English: "1 file", not "1 files"', () => {
    const tv = vault()
    tv.createSecret('MY_KEY', 'v1')
    assert.match(tv.ok(['audit', 'verify']), /^Audit chain intact: \d+ events? in 1 file\.\n$/)
  })

  it('providers show lines its capability columns up, however long an id is', () => {
    const tv = vault()
    const out = tv.ok(['providers', 'show', 'openai'])
    const table = out.slice(out.indexOf('Capabilities (')).split('\n').slice(1).filter((l) => l !== '')
    assert.match(table[0], /^ {2}CAPABILITY +METHODS +PATHS$/)
    const methodsAt = table[0].indexOf('METHODS')
    const pathsAt = table[0].indexOf('PATHS')
    for (const row of table.slice(1)) {
      assert.equal(row[methodsAt - 1], ' ', row)
      assert.notEqual(row[methodsAt], ' ', row)
      assert.equal(row[pathsAt - 1], ' ', row)
      assert.equal(row[pathsAt], '/', row)
    }
    assert.ok(table.length > 10)
    assert.equal(parseJson(tv.run(['providers', 'show', 'openai', '--json'])).provider, 'openai')
  })

  it('secrets import says which names are pinned to a provider, as create does', () => {
    const tv = vault()
    const out = tv.ok(['secrets', 'import', '--entry', 'OPENAI_API_KEY=sk-test', '--entry', 'MY_KEY=v1'])
    assert.ok(lines(out).includes('Created OPENAI_API_KEY (pinned to provider: openai)'), out)
    assert.ok(lines(out).includes('Created MY_KEY'), out)
    const again = tv.ok(['secrets', 'import', '--entry', 'OPENAI_API_KEY=sk-test-2'])
    assert.ok(lines(again).includes('Rotated OPENAI_API_KEY (pinned to provider: openai)'), again)
    assert.doesNotMatch(out + again, /sk-test/)
  })

  it('demo --json holds plain text, without the padding of the human layout', function () {
    this.timeout(60_000)
    const tv = vault()
    const demo = parseJson(tv.run(['demo', '--json']))
    assert.ok(demo.refused.length > 0)
    for (const r of demo.refused) assert.doesNotMatch(r.attempt, / {2}/, r.attempt)
    assert.ok(demo.refused.some((r: {attempt: string}) => r.attempt === 'path traversal --path /v1/chat/completions/../../admin'))
  })
})

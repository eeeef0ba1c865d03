/**
 * `aivault secrets rotate|update|attach-group|delete|import` end to end (SPEC §3, §15), run
 * through the built CLI in temporary folders.
 */
import * as assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {parse as parseYaml} from 'yaml'

import {expectJsonError, parseJson, useTempVault} from './fixture'
import {assertChangeShape, assertSecretShape, capabilitiesText, capabilityCount, createJson, credentialsJson, lines, listJson, secretFile} from './secrets-helpers'

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
    // The human lines name the group as every list does (scopeLabel).
    assert.equal(tv.ok(attach.slice(0, -1)).trim(), 'Attached MY_KEY to group:w/g')
    assert.equal(tv.ok(detach.slice(0, -1)).trim(), 'Detached MY_KEY from group:w/g')
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

/**
 * `aivault git setup` and the textconv driver it installs (SPEC §11, §15 Teams): readable
 * `git diff` of sealed records, idempotent set-up, and a driver that shows any file git hands
 * it without crashing or printing sealed data. Real git in temp repositories.
 */
import * as assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {CLI, expectHumanError, expectJsonError, parseJson, useTempVault} from './fixture'
import {commitAll, git} from './git-helpers'

/** A run of base64 characters longer than 16: what a diff of sealed data looks like. */
const LONG_BASE64 = /[A-Za-z0-9+/]{17,}/

/** The diff's content lines (not the `diff --git`, `index`, `---` and `+++` lines, which carry paths). */
const bodyLines = (diff: string) => diff.split('\n').filter((line) => !/^(diff --git|index |--- |\+\+\+ )/.test(line))

/** The base64 values of a secret record's sealed block. */
const sealedValues = (text: string) => [...text.matchAll(/(?:nonce|ciphertext): "?([A-Za-z0-9+/=]+)"?$/gm)].map((m) => m[1])

describe('git setup and the textconv driver (SPEC §11)', () => {
  const vault = useTempVault()

  it('refuses a vault folder outside a git work tree, naming it, and writes nothing', () => {
    const tv = vault()
    tv.ok(['init'])
    const message = expectHumanError(tv.run(['git', 'setup']), 1)
    assert.equal(message, `the vault folder ${tv.root} is not inside a git work tree`)
    assert.match(tv.run(['git', 'setup']).stderr, /^Hint: run "git init" there/m)
    expectJsonError(tv.run(['git', 'setup', '--json']), 1, 'not_found')
    assert.equal(fs.existsSync(path.join(tv.root, '.gitattributes')), false)
  })

  it('writes .gitattributes and the local diff driver once: a second run changes nothing, and lines already there are kept', () => {
    const tv = vault()
    tv.ok(['init'])
    // The vault is a folder of a larger repository: the driver goes in that repository's config.
    git(tv, tv.base, ['init', '-q'])
    const attributes = path.join(tv.root, '.gitattributes')
    fs.writeFileSync(attributes, '*.png binary', {mode: 0o600})
    const first = tv.json(['git', 'setup'])
    assert.deepEqual(
      {...first, textconv: undefined},
      {repository: fs.realpathSync(tv.base), attributesFile: attributes, attributes: 'updated', textconv: undefined, config: 'set'},
    )
    assert.equal(first.textconv, `${process.execPath} ${CLI} git textconv`, 'the absolute paths of this node and this CLI')
    assert.equal(git(tv, tv.root, ['config', '--local', '--get-all', 'diff.aivault.textconv']), `${first.textconv}\n`)
    const written = fs.readFileSync(attributes, 'utf8')
    assert.match(written, /^\*\.png binary\n# aivault: [^\n]+\n\*\.yaml text eol=lf diff=aivault\n$/)
    assert.equal(fs.statSync(attributes).mode & 0o777, 0o600)
    assert.equal(git(tv, tv.root, ['check-attr', 'diff', '--', 'vault.yaml']).trim(), 'vault.yaml: diff: aivault')

    const second = tv.json(['git', 'setup'])
    assert.equal(second.attributes, 'unchanged')
    assert.equal(second.config, 'unchanged')
    assert.equal(fs.readFileSync(attributes, 'utf8'), written)
    assert.equal(git(tv, tv.root, ['config', '--local', '--get-all', 'diff.aivault.textconv']), `${first.textconv}\n`)
    assert.match(tv.ok(['git', 'setup']), /\.gitattributes: already set up\n {2}git config diff\.aivault\.textconv: already set/)
    const doctor = parseJson(tv.run(['doctor', '--json']))
    assert.equal(doctor.ok, true, JSON.stringify(doctor.findings))
  })

  it('git diff and git log -p of a rotate show "value: version 1" -> "version 2" and no base64 run longer than 16 characters', () => {
    const tv = vault()
    tv.ok(['init'])
    git(tv, tv.root, ['init', '-q'])
    tv.ok(['git', 'setup'])
    const id = tv.createSecret('MY_KEY', 'first-value')
    tv.createSecret('OPENAI_API_KEY', 'sk-first')
    commitAll(tv, tv.root, 'two secrets')
    const file = path.join(tv.root, 'secrets', `${id}.yaml`)
    const before = fs.readFileSync(file, 'utf8')
    tv.ok(['secrets', 'rotate', '--id', id, '--value-stdin'], {input: 'second-value'})
    const after = fs.readFileSync(file, 'utf8')

    const raw = git(tv, tv.root, ['diff', '--no-textconv'])
    assert.ok(bodyLines(raw).some((line) => LONG_BASE64.test(line)), 'without the driver the diff shows base64 (the check below can fail)')
    const diff = git(tv, tv.root, ['diff'])
    const sealed = /^[-+] {2}value: +version (\d), sealed \(XChaCha20-Poly1305, data [0-9a-f]{8}, master key [0-9a-f]{16}\)$/gm
    assert.deepEqual([...diff.matchAll(sealed)].map((m) => `${m[0][0]}${m[1]}`), ['-1', '+2'], diff)
    assert.match(diff, /^@@ [^@]+ @@ secret MY_KEY$/m, 'the hunk header names the secret')
    assert.match(diff, /^- {2}updated: +\S+Z\n/m)
    assert.deepEqual(bodyLines(diff).filter((line) => LONG_BASE64.test(line)), [], diff)
    for (const value of [...sealedValues(before), ...sealedValues(after)]) assert.ok(!diff.includes(value), 'no sealed value in the diff')

    commitAll(tv, tv.root, 'rotate')
    tv.ok(['secrets', 'update', '--id', id, '--alias', 'MY_ALIAS'])
    commitAll(tv, tv.root, 'alias')
    const log = git(tv, tv.root, ['log', '-p', '-2'])
    assert.match(log, /^- {2}aliases: +none\n\+ {2}aliases: +MY_ALIAS$/m)
    assert.match(log, /^\+ {2}value: +version 2, sealed/m)
    assert.deepEqual(bodyLines(log).filter((line) => !/^(commit|Author|Date)/.test(line) && LONG_BASE64.test(line)), [], log)
  })

  it('the driver shows any file git hands it, exits 0 and never prints sealed data', () => {
    const tv = vault()
    const id = tv.createSecret('MY_KEY', 'textconv-value')
    const record = fs.readFileSync(path.join(tv.root, 'secrets', `${id}.yaml`), 'utf8')
    const other = record.replace('valueVersion: 1', 'valueVersion: 3').replace(/(nonce|ciphertext): "?([A-Za-z0-9+/=]+)"?/g, (_m, key, value) => `${key}: "${value.split('').reverse().join('')}"`)
    const lines = (text: string) => text.split('\n')
    const conflicted = [...lines(record).slice(0, 8), '<<<<<<< HEAD', ...lines(record).slice(8, -1), '=======', ...lines(other).slice(8, -1), '>>>>>>> origin/main', ''].join('\n')
    const dir = path.join(tv.base, 'textconv')
    fs.mkdirSync(dir)
    const cases: Array<[string, string | Buffer, RegExp]> = [
      ['record.yaml', record, /^secret MY_KEY\n {2}id: +[0-9a-f-]{36}\n[\s\S]*^ {2}value: +version 1, sealed/m],
      ['conflicted.yaml', conflicted, /^conflicted: both sides changed this file \(run "aivault doctor"[^\n]*\n--- ours \(HEAD\)\n {2}secret MY_KEY\n[\s\S]* {4}value: +version 1,[\s\S]*\n--- theirs \(origin\/main\)\n[\s\S]* {4}value: +version 3,/],
      ['malformed.yaml', `id: [unclosed\nnonce: "${'QUJDREVGR0hJSktMTU5PUFFSU1RVVldY'.repeat(2)}=="\n`, /^not a valid record \(malformed YAML: [^\n]+\)\n {2}id: \[unclosed\n {2}nonce: "<encoded [0-9a-f]{8}>"\n$/],
      ['list.yaml', '- a\n- b\n', /^not a valid record \(not a YAML map\)\n/],
      ['forged.yaml', record.replace('name: MY_KEY', 'name: "MY_KEY\\n+  value: version 99"'), /^secret "MY_KEY\\n\+ {2}value: version 99"\n/],
      ['binary.yaml', Buffer.from([0x69, 0x64, 0x00, 0xff, 0x10]), /^binary file of 5 bytes: not shown\n$/],
      ['empty.yaml', '', /^$/],
      ['huge.yaml', 'x'.repeat(2 * 1024 * 1024), /^file of 2097152 bytes, larger than any record: not shown\n$/],
    ]
    for (const [name, content] of cases) fs.writeFileSync(path.join(dir, name), content)
    for (const [name, , expected] of [...cases, ['missing.yaml', '', /^cannot read this file \(ENOENT\)\n$/] as const]) {
      const result = tv.run(['git', 'textconv', path.join(dir, name)])
      assert.equal(result.status, 0, `${name}: ${result.stderr}`)
      assert.equal(result.stderr, '', name)
      assert.match(result.stdout, expected, `${name}:\n${result.stdout}`)
      assert.ok(!LONG_BASE64.test(result.stdout), `${name}: no long base64 run\n${result.stdout}`)
      for (const value of [...sealedValues(record), ...sealedValues(other)]) assert.ok(!result.stdout.includes(value), name)
    }
    // Through oclif (the hidden command) rather than bin/run.js's fast path: the same text.
    const viaOclif = tv.run(['git', 'textconv', '--', path.join(dir, 'conflicted.yaml')])
    assert.equal(viaOclif.status, 0, viaOclif.stderr)
    assert.equal(viaOclif.stdout, tv.run(['git', 'textconv', path.join(dir, 'conflicted.yaml')]).stdout)
  })
})

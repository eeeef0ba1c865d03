/**
 * Team vaults in git: what merging two clones does (SPEC §11, issue 15). Real git, a bare
 * origin in the temp folder, two clones sharing one `file` key (AIVAULT_KEYS_DIR), and the
 * local HTTPS upstream to prove a merged secret really opens: the upstream sees its value.
 * Every fix is the command doctor printed, run as printed by a shell.
 */
import * as assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as path from 'node:path'

import type {TempVault} from './fixture'
import {CLI, expectJsonError, parseJson, useTempVault} from './fixture'
import type {Clone} from './git-helpers'
import {commitAll, git, gitRun, shell, teamOfTwo} from './git-helpers'
import type {Upstream} from './upstream'
import {resolveEnv, startUpstream} from './upstream'

interface Finding {
  check: string
  file?: string
  problem: string
  fix?: string
}

describe('team vaults in git: merges and doctor (SPEC §11)', function () {
  this.timeout(240_000)
  const vault = useTempVault()
  let up: Upstream

  before(async () => {
    up = await startUpstream()
  })
  after(async () => {
    await up?.close()
  })

  const team = (tv: TempVault) => teamOfTwo(tv, {init: ['init', '--testing'], env: resolveEnv(up)})

  function doctor(clone: Clone): {status: number; ok: boolean; findings: Finding[]; opened: number; text: string} {
    const result = clone.run(['doctor', '--json'])
    const report = parseJson(result)
    return {status: result.status, ok: report.ok, findings: report.findings, opened: report.checked.opened, text: result.stdout}
  }

  function assertClean(clone: Clone, secrets: number, label: string): void {
    const report = doctor(clone)
    assert.equal(report.status, 0, `${label}: ${report.text}`)
    assert.equal(report.ok, true)
    assert.equal(report.opened, secrets, `${label}: every secret opens`)
  }

  /** A doctor fix, run by `sh` in the clone as printed (`aivault` is this build's CLI). */
  function runFix(tv: TempVault, clone: Clone, fix: string): void {
    const result = shell(tv, clone.root, `aivault() { "${process.execPath}" "${CLI}" "$@"; }; ${fix}`, {AIVAULT_DIR: clone.root})
    assert.equal(result.status, 0, `${fix}\n${result.stdout}\n${result.stderr}`)
  }

  /** Invoke a capability in a clone; returns the bearer value the upstream received. */
  async function bearerSeen(clone: Clone, capability: string, urlPath: string): Promise<string> {
    const result = await clone.runAsync(['invoke', capability, '--path', urlPath, '--json'])
    assert.equal(result.status, 0, result.stdout + result.stderr)
    const request = [...up.requests].reverse().find((r) => r.pathname === urlPath)
    assert.ok(request, `no request reached ${urlPath}`)
    return (request.headers.authorization ?? '').replace(/^Bearer /, '')
  }

  const push = (tv: TempVault, clone: Clone) => git(tv, clone.root, ['push', '-q', 'origin', 'main'])
  const pull = (tv: TempVault, clone: Clone) => gitRun(tv, clone.root, ['pull', '-q', '--no-rebase', '--no-edit', 'origin', 'main'])
  const pullClean = (tv: TempVault, clone: Clone) => {
    const result = pull(tv, clone)
    assert.equal(result.status, 0, `a clean merge\n${result.stdout}\n${result.stderr}`)
    assert.equal(git(tv, clone.root, ['diff', '--name-only', '--diff-filter=U']), '', 'no unmerged paths')
  }

  it('two clones adding different secrets, credentials, capabilities, bindings and policies merge cleanly, and the merged vault works in both', async () => {
    const tv = vault()
    const {a, b} = team(tv)
    a.json(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin'], 'sk-from-clone-a')
    a.ok(['capability', 'policy', 'set', '--capability', 'openai/batch', '--rate-limit-per-minute', '50'])
    a.ok(['capability', 'bind', '--capability', 'openai/embeddings', '--credential', 'openai', '--workspace-id', 'team-a'])
    commitAll(tv, a.root, 'clone A: openai, a policy and a binding')
    push(tv, a)

    b.json(['secrets', 'create', '--name', 'GITHUB_TOKEN', '--value-stdin'], 'ghp-from-clone-b')
    const mine = b.json(['secrets', 'create', '--name', 'MY_API_KEY', '--value-stdin'], 'my-from-clone-b').secret.id
    b.ok(['credential', 'create', 'my-api', '--provider', 'my-api', '--secret-ref', `vault:secret:${mine}`, '--auth', 'header', '--host', 'api.example.com'])
    b.ok(['capability', 'create', 'my-api/things', '--credential', 'my-api', '--method', 'GET', '--path', '/v1/things'])
    b.ok(['capability', 'policy', 'set', '--capability', 'github/gists', '--rate-limit-per-minute', '30'])
    b.ok(['capability', 'bind', '--capability', 'my-api/things', '--credential', 'my-api', '--workspace-id', 'team-b'])
    commitAll(tv, b.root, 'clone B: github, my-api, a capability, a policy and a binding')
    pullClean(tv, b)
    push(tv, b)
    pullClean(tv, a)

    const files = git(tv, a.root, ['ls-files'])
    assert.equal(git(tv, b.root, ['ls-files']), files, 'both clones hold the same records')
    for (const expected of ['policies/openai%2Fbatch.yaml', 'policies/github%2Fgists.yaml', 'capabilities/my-api%2Fthings.yaml', 'credentials/my-api.yaml']) {
      assert.match(files, new RegExp(`^${expected.replace(/[.%]/g, '\\$&')}$`, 'm'), files)
    }
    for (const [label, clone] of [['A', a], ['B', b]] as const) {
      assertClean(clone, 3, `clone ${label}`)
      const bindings = clone.json(['capability', 'bindings']).bindings.map((x: {id: string}) => x.id).sort()
      assert.deepEqual(bindings, ['my-api/things@ws:team-b', 'openai/embeddings@ws:team-a'], `clone ${label}`)
      assert.equal(git(tv, clone.root, ['status', '--porcelain']), '', `clone ${label}: reading wrote nothing`)
    }
    // Each clone uses the other's secret: the values opened under the shared key.
    assert.equal(await bearerSeen(b, 'openai/models', '/v1/models/merged-b'), 'sk-from-clone-a')
    assert.equal(await bearerSeen(a, 'my-api/things', '/v1/things/merged-a'), 'my-from-clone-b')
  })

  it('both clones rotating one secret: a normal git conflict that doctor explains; keeping either side leaves a working vault', async () => {
    const tv = vault()
    const {a, b} = team(tv)
    const id = a.json(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin'], 'sk-first').secret.id
    commitAll(tv, a.root, 'openai')
    push(tv, a)
    pullClean(tv, b)
    a.ok(['secrets', 'rotate', '--id', id, '--value-stdin'], 'sk-rotated-by-a')
    commitAll(tv, a.root, 'A rotates')
    push(tv, a)
    b.ok(['secrets', 'rotate', '--id', id, '--value-stdin'], 'sk-rotated-by-b')
    commitAll(tv, b.root, 'B rotates')

    const file = `secrets/${id}.yaml`
    const conflict = () => {
      const merge = pull(tv, b)
      assert.equal(merge.status, 1, `git stops the merge\n${merge.stdout}\n${merge.stderr}`)
      assert.match(merge.stdout + merge.stderr, new RegExp(`CONFLICT \\(content\\): Merge conflict in ${file}`))
      const report = doctor(b)
      assert.equal(report.status, 1, report.text)
      assert.deepEqual(report.findings.map((f) => `${f.check} ${f.file}`), [`conflicts ${file}`], report.text)
      return report.findings[0]
    }
    const finding = conflict()
    assert.match(finding.problem, /^both sides changed secret OPENAI_API_KEY: ours \(HEAD\) has value version 2, updated \S+, theirs \(\S+\) has value version 2, updated \S+\. Ours is newer\./)
    // B rotated last, so its own side (ours) is newer and the fix keeps it; the other command keeps theirs.
    const q = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    assert.equal(finding.fix, `git -C ${b.root} checkout --ours -- ${file} && git -C ${b.root} add -- ${file}`)
    const keepTheirs = `git -C ${b.root} checkout --theirs -- ${file} && git -C ${b.root} add -- ${file}`
    assert.match(finding.problem, new RegExp(`to keep theirs, run: ${q(keepTheirs)}\\. Then run "aivault doctor" again and commit the merge\\.$`))
    const human = b.run(['doctor'])
    assert.match(human.stdout, new RegExp(`^  fix: ${q(finding.fix as string)}$`, 'm'))
    const sealed = [...fs.readFileSync(path.join(b.root, file), 'utf8').matchAll(/(?:nonce|ciphertext): "?([A-Za-z0-9+/=]+)"?$/gm)].map((m) => m[1])
    assert.equal(sealed.length, 8, 'both sides\' sealed blocks are in the conflicted file')
    for (const value of sealed) assert.ok(!human.stdout.includes(value), 'doctor never prints sealed data')

    // Theirs (A's value): the vault works with it.
    runFix(tv, b, keepTheirs)
    assertClean(b, 1, 'kept theirs')
    assert.equal(await bearerSeen(b, 'openai/models', '/v1/models/theirs'), 'sk-rotated-by-a')

    // Start the merge again and take doctor's fix (ours, B's value) this time.
    git(tv, b.root, ['merge', '--abort'])
    runFix(tv, b, conflict().fix as string)
    assertClean(b, 1, 'kept ours')
    git(tv, b.root, ['commit', '-q', '--no-edit'])
    assert.equal(await bearerSeen(b, 'openai/models', '/v1/models/ours'), 'sk-rotated-by-b')
    push(tv, b)
    pullClean(tv, a)
    assertClean(a, 1, 'clone A after pulling the resolution')
    assert.equal(await bearerSeen(a, 'openai/models', '/v1/models/pulled'), 'sk-rotated-by-b')
  })

  it('two clones creating the same names: doctor reports each with the command that fixes it, and the fixes leave a clean vault', async () => {
    const tv = vault()
    const {a, b} = team(tv)
    const create = (clone: Clone, name: string, value: string, extra: string[] = []) => clone.json(['secrets', 'create', '--name', name, '--value-stdin', ...extra], value).secret.id
    const mineA = create(a, 'MY_KEY', 'my-key-a')
    create(a, 'ALIASED_A', 'aliased-a', ['--alias', 'SHARED_ALIAS'])
    create(a, 'OPENAI_API_KEY', 'sk-openai-a')
    commitAll(tv, a.root, 'A')
    push(tv, a)
    const mineB = create(b, 'MY_KEY', 'my-key-b')
    const aliasedB = create(b, 'ALIASED_B', 'aliased-b', ['--alias', 'SHARED_ALIAS', '--alias', 'KEEP_ALIAS'])
    const openaiB = create(b, 'OPENAI_API_KEY', 'sk-openai-b')
    commitAll(tv, b.root, 'B')

    // Both auto-provisioned credentials/openai.yaml: that one file conflicts; doctor explains it.
    const merge = pull(tv, b)
    assert.equal(merge.status, 1, merge.stdout + merge.stderr)
    const first = doctor(b)
    const conflict = first.findings.find((f) => f.check === 'conflicts')
    assert.ok(conflict && conflict.file === 'credentials/openai.yaml', first.text)
    assert.match(conflict.problem, /^both sides changed credential openai: ours \(HEAD\) has secret [0-9a-f-]{36}, created \S+, theirs \(\S+\) has secret [0-9a-f-]{36}, created \S+\./)
    runFix(tv, b, conflict.fix as string)
    git(tv, b.root, ['commit', '-q', '--no-edit'])

    // The merge itself was clean for the secrets: three names now answer for two secrets each.
    const report = doctor(b)
    assert.equal(report.status, 1, report.text)
    const names = report.findings.filter((f) => f.check === 'names')
    assert.deepEqual(report.findings.filter((f) => f.check !== 'names'), [], report.text)
    assert.equal(names.length, 3, report.text)
    const about = (name: string) => names.find((f) => f.problem.startsWith(`${name} names two secrets in scope global`)) as Finding
    assert.equal(about('MY_KEY').fix, `aivault secrets update --id ${about('MY_KEY').file?.slice(8, 44)} --name MY_KEY_2`)
    assert.ok([mineA, mineB].some((id) => about('MY_KEY').file === `secrets/${id}.yaml`))
    assert.equal(about('SHARED_ALIAS').fix, `aivault secrets update --id ${aliasedB} --clear-aliases --alias KEEP_ALIAS`, 'the newer alias holder drops it')
    const openaiKept = parseJson(b.run(['credential', 'list', '--json'])).credentials[0].secretRefs.secret.split(':')[2]
    const openaiDropped = [openaiB, ...b.json(['secrets', 'list']).secrets.filter((s: any) => s.name === 'OPENAI_API_KEY').map((s: any) => s.id)].find((id) => id !== openaiKept)
    assert.equal(about('OPENAI_API_KEY').fix, `aivault secrets delete --id ${openaiDropped}`, 'a pinned duplicate nothing uses is deleted')

    // Addressed by name, an ambiguous secret is a clear conflict naming both ids; --id still works.
    const ambiguous = expectJsonError(b.run(['secrets', 'rotate', '--name', 'MY_KEY', '--value', 'x', '--json']), 1, 'conflict')
    for (const id of [mineA, mineB]) assert.ok(ambiguous.message.includes(id), ambiguous.message)
    b.ok(['secrets', 'rotate', '--id', mineA, '--value-stdin'], 'my-key-a-2')

    for (const finding of names) runFix(tv, b, finding.fix as string)
    assertClean(b, 5, 'after the fixes')
    const listed = b.json(['secrets', 'list']).secrets.map((s: any) => `${s.name}:${s.aliases.join('+')}`)
    assert.deepEqual(listed, ['ALIASED_A:SHARED_ALIAS', 'ALIASED_B:KEEP_ALIAS', 'MY_KEY:', 'MY_KEY_2:', 'OPENAI_API_KEY:'])
    b.ok(['secrets', 'rotate', '--name', 'MY_KEY', '--value-stdin'], 'by-name-again')
    assert.ok((await bearerSeen(b, 'openai/models', '/v1/models/after-fix')).startsWith('sk-openai-'))
  })

  it('a secret deleted on one side and rotated on the other: doctor reports the unmerged file, then the credential left without its secret', () => {
    const tv = vault()
    const {a, b} = team(tv)
    const id = a.json(['secrets', 'create', '--name', 'MY_API_KEY', '--value-stdin'], 'my-first').secret.id
    commitAll(tv, a.root, 'my key')
    push(tv, a)
    pullClean(tv, b)
    a.ok(['secrets', 'delete', '--id', id])
    commitAll(tv, a.root, 'A deletes')
    push(tv, a)
    b.ok(['secrets', 'rotate', '--id', id, '--value-stdin'], 'my-second')
    b.ok(['credential', 'create', 'my-api', '--provider', 'my-api', '--secret-ref', `vault:secret:${id}`, '--auth', 'header', '--host', 'api.example.com'])
    b.ok(['capability', 'bind', '--capability', 'openai/models', '--secret-ref', `vault:secret:${id}`, '--workspace-id', 'w1', '--consumer', 'agent one'])
    commitAll(tv, b.root, 'B rotates and uses it')
    const merge = pull(tv, b)
    assert.equal(merge.status, 1, merge.stdout + merge.stderr)
    assert.match(merge.stdout + merge.stderr, /CONFLICT \(modify\/delete\)/)
    assert.ok(!fs.readFileSync(path.join(b.root, `secrets/${id}.yaml`), 'utf8').includes('<<<<<<<'), 'git left no markers')

    const first = doctor(b)
    assert.equal(first.status, 1, first.text)
    const unmerged = first.findings.find((f) => f.check === 'conflicts') as Finding
    assert.equal(unmerged.file, `secrets/${id}.yaml`)
    assert.match(unmerged.problem, /^theirs deleted this secret, ours changed it \(git left it unmerged\)\. The fix keeps the deletion; to keep the changed secret, run: git -C \S+ add -- \S+\./)
    assert.equal(unmerged.fix, `git -C ${b.root} rm -q -- secrets/${id}.yaml`)
    runFix(tv, b, unmerged.fix as string)
    git(tv, b.root, ['commit', '-q', '--no-edit'])

    const second = doctor(b)
    assert.deepEqual(
      second.findings.map((f) => [f.check, f.file, f.fix]),
      [
        ['references', 'credentials/my-api.yaml', 'aivault credential delete my-api'],
        ['references', 'bindings/openai%2Fmodels%40ws%3Aw1%40consumer%3Aagent%20one.yaml', "aivault capability unbind --capability openai/models --workspace-id w1 --consumer 'agent one'"],
      ],
      second.text,
    )
    for (const finding of second.findings) runFix(tv, b, finding.fix as string)
    assertClean(b, 0, 'after the fixes')
  })
})

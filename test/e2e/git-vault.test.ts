/**
 * Team vaults in git (SPEC §1, §11): deterministic records, reads that never write, and two
 * clones that add different records merging without conflicts. Uses the real `git` binary
 * with a bare repository in the temp folder as origin (no network).
 */
import * as assert from 'node:assert/strict'
import * as path from 'node:path'

import {parseJson, useTempVault} from './fixture'
import {commitAll, git, inClone} from './git-helpers'

describe('vaults in git (SPEC §1, §11)', () => {
  const vault = useTempVault()

  it('two clones adding different secrets and credentials merge without conflicts; every record opens', () => {
    const tv = vault()
    tv.ok(['init'])
    const origin = path.join(tv.base, 'origin.git')
    git(tv, tv.base, ['init', '-q', '--bare', origin])
    git(tv, tv.root, ['init', '-q'])
    commitAll(tv, tv.root, 'new vault')
    assert.equal(git(tv, tv.root, ['status', '--porcelain']), '', 'init leaves nothing untracked or ignored-but-needed')
    const tracked = git(tv, tv.root, ['ls-files']).split('\n').filter(Boolean)
    assert.ok(tracked.includes('vault.yaml') && tracked.includes('.gitignore'), tracked.join(', '))
    assert.ok(!tracked.some((f) => f.startsWith('run/') || f.startsWith('audit/') || f.endsWith('.key')), tracked.join(', '))
    git(tv, tv.root, ['remote', 'add', 'origin', origin])
    git(tv, tv.root, ['push', '-q', 'origin', 'HEAD:main'])

    const rootA = path.join(tv.base, 'clone-a')
    const rootB = path.join(tv.base, 'clone-b')
    git(tv, tv.base, ['clone', '-q', '--branch', 'main', origin, rootA])
    git(tv, tv.base, ['clone', '-q', '--branch', 'main', origin, rootB])
    const a = inClone(tv, rootA)
    const b = inClone(tv, rootB)

    // Clone A: a pinned secret (auto-provisioned credential) and a custom credential.
    const openai = a.json(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin'], 'sk-clone-a').secret.id
    const mine = a.json(['secrets', 'create', '--name', 'MY_API_KEY', '--value', 'custom-a']).secret.id
    a.ok(['credential', 'create', 'my-api', '--provider', 'my-api', '--secret-ref', `vault:secret:${mine}`, '--auth', 'header', '--host', 'api.example.com'])
    commitAll(tv, rootA, 'clone A: openai and my-api')
    git(tv, rootA, ['push', '-q', 'origin', 'main'])

    // Clone B, meanwhile: another pinned secret and a group attachment.
    const github = b.json(['secrets', 'create', '--name', 'GITHUB_TOKEN', '--value-stdin'], 'ghp-clone-b').secret.id
    b.ok(['secrets', 'attach-group', '--id', github, '--workspace-id', 'team', '--group-id', 'backend'])
    commitAll(tv, rootB, 'clone B: github')
    git(tv, rootB, ['pull', '-q', '--no-rebase', '--no-edit', 'origin', 'main'])
    assert.equal(git(tv, rootB, ['status', '--porcelain']), '', 'merged cleanly')
    assert.equal(git(tv, rootB, ['diff', '--name-only', '--diff-filter=U']), '', 'no unmerged paths')
    git(tv, rootB, ['push', '-q', 'origin', 'main'])
    git(tv, rootA, ['pull', '-q', '--no-rebase', '--no-edit', 'origin', 'main'])

    for (const [label, clone] of [['B', b], ['A', a]] as const) {
      const secrets = clone.json(['secrets', 'list']).secrets
      assert.deepEqual(
        secrets.map((s: any) => [s.name, s.id]),
        [
          ['GITHUB_TOKEN', github],
          ['MY_API_KEY', mine],
          ['OPENAI_API_KEY', openai],
        ],
        `clone ${label}`,
      )
      const credentials = clone.json(['credential', 'list']).credentials
      assert.deepEqual(
        credentials.map((c: any) => c.id).sort(),
        ['github', 'my-api', 'openai'],
        `clone ${label}`,
      )
      const doctor = clone.run(['doctor', '--json'])
      const report = parseJson(doctor)
      assert.equal(report.ok, true, `clone ${label}: ${doctor.stdout}`)
      assert.equal(doctor.status, 0)
      assert.equal(report.checked.secrets, 3)
      assert.equal(report.checked.opened, 3, 'every record opens with the shared key')
    }
    assert.equal(git(tv, rootA, ['status', '--porcelain']), '')
    assert.equal(git(tv, rootB, ['status', '--porcelain']), '')
  })

  it('rewriting an unchanged record keeps its bytes, and reading never writes a tracked file', () => {
    const tv = vault()
    tv.ok(['init'])
    const id = tv.createSecret('MY_KEY', 'git-value')
    tv.ok(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value', 'sk-git'])
    tv.ok(['secrets', 'update', '--id', id, '--alias', 'MY_ALIAS'])
    tv.ok(['secrets', 'attach-group', '--id', id, '--workspace-id', 'team', '--group-id', 'backend'])
    git(tv, tv.root, ['init', '-q'])
    commitAll(tv, tv.root, 'vault with records')
    assert.equal(git(tv, tv.root, ['status', '--porcelain']), '')

    // Idempotent changes: same alias, attached group, detaching a group that is not attached.
    tv.ok(['secrets', 'update', '--id', id, '--alias', 'MY_ALIAS'])
    tv.ok(['secrets', 'attach-group', '--id', id, '--workspace-id', 'team', '--group-id', 'backend'])
    tv.ok(['secrets', 'detach-group', '--id', id, '--workspace-id', 'team', '--group-id', 'other'])
    assert.equal(git(tv, tv.root, ['status', '--porcelain']), '', 'an unchanged record was rewritten')

    // Reads.
    for (const args of [['secrets', 'list'], ['secrets', 'list', '--json'], ['status'], ['status', '--json'], ['credential', 'list'], ['audit'], ['doctor']]) {
      tv.ok(args)
    }
    assert.equal(git(tv, tv.root, ['status', '--porcelain']), '', 'a read-only command changed a tracked file')
    // run/ and audit/ were written (cache, lock, log) but are ignored.
    const ignored = git(tv, tv.root, ['status', '--porcelain', '--ignored'])
    assert.match(ignored, /^!! audit\/$/m)

    // A real change shows up: the check above can see changes.
    tv.ok(['secrets', 'update', '--id', id, '--alias', 'SECOND_ALIAS'])
    assert.equal(git(tv, tv.root, ['status', '--porcelain']).trim(), `M secrets/${id}.yaml`)
  })
})

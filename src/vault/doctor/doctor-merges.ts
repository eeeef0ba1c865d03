/**
 * Doctor's merge checks (SPEC §11): what `git merge` or `git pull` can leave in a team vault,
 * each explained with the one command that fixes it. A record changed on both sides stops the
 * merge with conflict markers (or, when one side deleted it, as an unmerged file without them);
 * a clean merge can still join two secrets under one name or alias in a scope, or keep a
 * credential or binding whose secret one side deleted. A record is always kept whole from one
 * side: merged line by line, its sealed value would not open.
 */
import {splitConflict} from '../git/conflict-sides'
import {runGit, shellWord} from '../git/git'
import type {Binding} from '../store/broker-records'
import type {CredentialRecord} from '../store/credential-record'
import {secretIdOfRef} from '../store/credential-record'
import {SECRET_NAME} from '../names'
import {scopeKey, scopeLabel} from '../scope'
import type {SecretMeta} from '../store/secret-record'
import {fromYaml} from '../store/yaml-codec'
import type {DoctorFinding} from './doctor-finding'

type Fields = Record<string, unknown>

/** `git -C <root> ...` so the command works from any folder. */
const git = (root: string, args: string) => `git -C ${shellWord(root)} ${args}`
const keepSide = (root: string, file: string, side: 'ours' | 'theirs') => `${git(root, `checkout --${side} -- ${shellWord(file)}`)} && ${git(root, `add -- ${shellWord(file)}`)}`
const AFTER_RESOLVING = 'Then run "aivault doctor" again and commit the merge'

function parseSide(text: string): Fields | undefined {
  try {
    const raw = fromYaml(text)
    return raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Fields) : undefined
  } catch {
    return undefined
  }
}

const str = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value) ?? 'none')

/** Which side is newer: the higher value version, then the later update (ISO-8601 compares as text). */
function newerSide(ours: Fields, theirs: Fields): 'ours' | 'theirs' {
  const version = (r: Fields) => (Number.isInteger(r.valueVersion) ? (r.valueVersion as number) : 0)
  if (version(ours) !== version(theirs)) return version(ours) > version(theirs) ? 'ours' : 'theirs'
  const time = (r: Fields) => str(r.updatedAt ?? r.createdAt ?? '')
  return time(theirs) > time(ours) ? 'theirs' : 'ours'
}

function describeSide(kind: string, record: Fields): string {
  if (kind === 'secret') return `value version ${str(record.valueVersion)}, updated ${str(record.updatedAt)}`
  if (kind === 'credential') {
    const refs = record.secretRefs && typeof record.secretRefs === 'object' ? Object.values(record.secretRefs as Fields).map((r) => secretIdOfRef(str(r)) ?? str(r)) : []
    return `secret ${refs.join(', ') || 'none'}, created ${str(record.createdAt)}`
  }
  if (kind === 'vault settings') return `master key ${str(record.kekId)}`
  return record.createdAt === undefined ? 'changed' : `created ${str(record.createdAt)}`
}

function kindOfFile(file: string): string {
  if (file === 'vault.yaml') return 'vault settings'
  const folder = file.split('/')[0]
  return {secrets: 'secret', credentials: 'credential', capabilities: 'capability', policies: 'policy', bindings: 'binding'}[folder] ?? 'file'
}

/** A record with conflict markers: both sides, which is newer, and the command keeping it. */
export function explainConflict(root: string, file: string, text: string): DoctorFinding {
  const base = {check: 'conflicts' as const, file, fixed: false}
  const sides = splitConflict(text)
  const ours = sides && parseSide(sides.ours)
  const theirs = sides && parseSide(sides.theirs)
  if (!sides || !ours || !theirs) {
    return {...base, problem: `git conflict markers that do not split into two readable sides: keep one side whole (the fix keeps ours; or git checkout --theirs). ${AFTER_RESOLVING}.`, fix: keepSide(root, file, 'ours')}
  }
  const kind = kindOfFile(file)
  const name = kind === 'secret' ? ` ${str(theirs.name)}` : kind === 'vault settings' ? '' : ` ${str(theirs.id ?? theirs.capability)}`
  const keep = kind === 'vault settings' ? 'ours' : newerSide(ours, theirs)
  const other = keep === 'ours' ? 'theirs' : 'ours'
  const why = kind === 'vault settings' ? 'Keep the side whose master key the records use (doctor then checks every record opens)' : `${keep === 'ours' ? 'Ours' : 'Theirs'} is newer`
  const label = (text: string) => text.replace(/\b([0-9a-f]{10})[0-9a-f]{30}\b/g, '$1')
  const problem =
    `both sides changed ${kind}${name}: ours (${label(sides.oursLabel)}) has ${describeSide(kind, ours)}, theirs (${label(sides.theirsLabel)}) has ${describeSide(kind, theirs)}. ` +
    `${why}. A record is kept whole from one side (mixed lines would not open): the fix keeps ${keep}; to keep ${other}, run: ${keepSide(root, file, other)}. ${AFTER_RESOLVING}.`
  return {...base, problem, fix: keepSide(root, file, keep)}
}

/**
 * Files git still lists as unmerged that carry no markers (one side deleted the record, the
 * other changed it). Nothing when the vault is not in a work tree or git is missing.
 */
export function checkUnmerged(root: string, explained: ReadonlySet<string>): DoctorFinding[] {
  const listed = runGit(root, ['ls-files', '--unmerged', '-z'])
  if (!listed || listed.status !== 0) return []
  const stages = new Map<string, Set<string>>()
  for (const entry of listed.stdout.split('\0')) {
    const match = /^\d+ [0-9a-f]+ ([123])\t(.+)$/.exec(entry)
    if (match) stages.set(match[2], (stages.get(match[2]) ?? new Set()).add(match[1]))
  }
  const findings: DoctorFinding[] = []
  for (const [file, present] of [...stages.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (explained.has(file)) continue
    const kind = kindOfFile(file)
    const keepChange = `to keep the changed ${kind}, run: ${git(root, `add -- ${shellWord(file)}`)}`
    let problem: string
    let fix: string
    if (!present.has('2') || !present.has('3')) {
      const [deleted, changed] = present.has('2') ? ['theirs', 'ours'] : ['ours', 'theirs']
      problem = `${deleted} deleted this ${kind}, ${changed} changed it (git left it unmerged). The fix keeps the deletion; ${keepChange}. ${AFTER_RESOLVING}.`
      fix = git(root, `rm -q -- ${shellWord(file)}`)
    } else {
      problem = `git still lists this file as unmerged: if it now holds the side you want, the fix marks it resolved. ${AFTER_RESOLVING}.`
      fix = git(root, `add -- ${shellWord(file)}`)
    }
    findings.push({check: 'conflicts', file, problem, fixed: false, fix})
  }
  return findings
}

interface Holder {
  secret: SecretMeta
  as: 'name' | 'alias'
}

/** A name no secret of the scope uses yet: NAME_2, NAME_3, ... */
function freeName(name: string, taken: ReadonlySet<string>): string {
  for (let n = 2; ; n++) {
    const candidate = `${name}_${n}`
    if (!taken.has(candidate) && SECRET_NAME.test(candidate)) return candidate
  }
}

/**
 * Two secrets of one scope answering to one name (as names or aliases): each clone checked its
 * own names, the merge joined them. The oldest secret holding it as its name keeps it (one a
 * credential or binding uses first); every other holder gets the command that frees the name.
 */
export function checkNames(secrets: SecretMeta[], inUse: ReadonlySet<string>, fileOf: (id: string) => string): DoctorFinding[] {
  const holders = new Map<string, Holder[]>()
  const takenInScope = new Map<string, Set<string>>()
  for (const secret of secrets) {
    const scope = scopeKey(secret.scope)
    const taken = takenInScope.get(scope) ?? new Set<string>()
    takenInScope.set(scope, taken)
    for (const [name, as] of [[secret.name, 'name'], ...secret.aliases.map((a) => [a, 'alias'])] as Array<[string, Holder['as']]>) {
      taken.add(name)
      const key = `${scope}\0${name}`
      const list = holders.get(key) ?? []
      if (!list.some((h) => h.secret.id === secret.id)) list.push({secret, as})
      holders.set(key, list)
    }
  }
  const rank = (h: Holder) => [h.as === 'name' ? 0 : 1, inUse.has(h.secret.id) ? 0 : 1, h.secret.createdAt, h.secret.id] as const
  const before = (a: Holder, b: Holder) => {
    const [x, y] = [rank(a), rank(b)]
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1
    return 0
  }
  const findings: DoctorFinding[] = []
  for (const [key, list] of holders) {
    if (list.length < 2) continue
    const [scope, name] = key.split('\0')
    const [keeper, ...others] = [...list].sort(before)
    for (const other of others) {
      const {secret} = other
      const keeperText = `${keeper.secret.name} (${keeper.secret.id}, created ${keeper.secret.createdAt})`
      let fix: string
      let how: string
      if (other.as === 'alias') {
        fix = ['aivault secrets update --id', secret.id, '--clear-aliases', ...secret.aliases.filter((a) => a !== name).flatMap((a) => ['--alias', a])].join(' ')
        how = `the fix removes the alias ${name} from this secret`
      } else if (secret.pinnedProvider) {
        fix = `aivault secrets delete --id ${secret.id}`
        how = `a secret pinned to ${secret.pinnedProvider} keeps its name, so the fix deletes this one${inUse.has(secret.id) ? ' (and the credentials and bindings that use it)' : ', which nothing uses'}`
      } else {
        fix = `aivault secrets update --id ${secret.id} --name ${freeName(name, takenInScope.get(scope) ?? new Set())}`
        how = `the fix renames this one (or delete it: "aivault secrets delete --id ${secret.id}")`
      }
      const problem =
        `${name} names two secrets in scope ${scopeLabel(secret.scope)}: ${keeperText} and this one, ${secret.name} (created ${secret.createdAt}), ` +
        `most likely from merging two clones; commands addressing ${name} by name are refused until one changes (--id still works); ${how}`
      findings.push({check: 'names', file: fileOf(secret.id), problem, fixed: false, fix})
    }
  }
  return findings
}

/** Secrets a credential or binding uses. */
export function secretsInUse(credentials: CredentialRecord[], bindings: Binding[]): Set<string> {
  const ids = new Set<string>()
  for (const credential of credentials) for (const ref of Object.values(credential.secretRefs)) ids.add(secretIdOfRef(ref) ?? '')
  for (const binding of bindings) if (binding.secretRef) ids.add(secretIdOfRef(binding.secretRef) ?? '')
  return ids
}

/**
 * Where each secret id stands: listed, or its file exists but does not read (a tampered or
 * conflicted record, reported by its own finding), or gone.
 */
export type SecretState = (id: string) => 'listed' | 'unreadable' | 'missing'

/** Credentials and bindings whose secret (or credential) is gone: one side deleted it, the other kept using it. */
export function checkReferences(
  secretState: SecretState,
  credentials: CredentialRecord[],
  bindings: Binding[],
  fileOf: {credential: (id: string) => string; binding: (id: string) => string},
): DoctorFinding[] {
  const findings: DoctorFinding[] = []
  const state = (ref: string) => secretState(secretIdOfRef(ref) ?? '')
  for (const credential of credentials) {
    const refs = Object.values(credential.secretRefs)
    const missing = refs.filter((ref) => state(ref) === 'missing')
    const unreadable = refs.filter((ref) => state(ref) === 'unreadable')
    const file = fileOf.credential(credential.id)
    if (missing.length > 0) {
      findings.push({
        check: 'references',
        file,
        problem: `refers to missing secret ${missing.join(', ')}, so it serves nothing; delete it (creating a provider's secret again provisions a new credential)`,
        fixed: false,
        fix: `aivault credential delete ${shellWord(credential.id)}`,
      })
    } else if (unreadable.length > 0) {
      findings.push({check: 'references', file, problem: `refers to secret ${unreadable.join(', ')}, whose record does not open (see its own finding): until it is restored, this credential serves nothing`, fixed: false})
    }
  }
  const credentialIds = new Set(credentials.map((c) => c.id))
  for (const binding of bindings) {
    const gone = [
      ...(binding.credential && !credentialIds.has(binding.credential) ? [`credential ${binding.credential}`] : []),
      ...(binding.secretRef && state(binding.secretRef) === 'missing' ? [`secret ${binding.secretRef}`] : []),
    ]
    if (gone.length === 0) continue
    const scope = [
      ['--workspace-id', binding.workspaceId],
      ['--group-id', binding.groupId],
      ['--consumer', binding.consumer],
    ].flatMap(([flag, value]) => (value ? [flag as string, shellWord(value)] : []))
    findings.push({
      check: 'references',
      file: fileOf.binding(binding.id),
      problem: `binds capability ${binding.capability} to missing ${gone.join(' and ')}; remove the binding (or bind it again to what exists)`,
      fixed: false,
      fix: ['aivault capability unbind --capability', shellWord(binding.capability), ...scope].join(' '),
    })
  }
  return findings
}

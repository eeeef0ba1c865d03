/**
 * `aivault identity` and `aivault recipients` as a user meets them (issue 15, SPEC §11, §15
 * Teams): shapes of the output, refusals with their codes and exit statuses, what each change
 * writes (and does not), audit events, rotate-master on a recipients vault, and the switch of
 * a file vault to recipients.
 */
import * as assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {TempVault, auditEvents, expectHumanError, expectJsonError, parseJson} from './fixture'
import type {Member} from './recipients-helpers'
import {member} from './recipients-helpers'

const modeOf = (file: string) => fs.statSync(file).mode & 0o777
const secretKeyOf = (identity: string) => /^secret-key: (\S+)$/m.exec(fs.readFileSync(identity, 'utf8'))![1]

describe('e2e identity and recipients commands (issue 15)', function () {
  this.timeout(120_000)
  let tv: TempVault
  let alice: Member, bob: Member, carol: Member

  beforeEach(() => {
    tv = new TempVault()
    // One vault folder, three identities: each member runs the CLI with their own AIVAULT_IDENTITY.
    alice = member(tv, 'alice', tv.root)
    bob = member(tv, 'bob', tv.root)
    carol = member(tv, 'carol', tv.root)
  })
  afterEach(() => tv.dispose())

  describe('identity create|show', () => {
    it('create writes a 0600 identity (0700 folder) at AIVAULT_IDENTITY, else ~/.aivault/identity.key; show prints the public key and fingerprint', () => {
      assert.equal(modeOf(alice.identity), 0o600)
      assert.equal(modeOf(path.dirname(alice.identity)), 0o700)
      const shown = alice.json(['identity', 'show'])
      assert.match(shown.publicKey, /^[A-Za-z0-9+/]{43}=$/)
      assert.deepEqual([shown.publicKey, shown.fingerprint], [alice.publicKey, alice.fingerprint])
      const human = alice.ok(['identity', 'show'])
      assert.ok(human.includes(`Public key:  ${alice.publicKey}`) && human.includes(`Fingerprint: ${alice.fingerprint}`), human)
      assert.ok(!human.includes(secretKeyOf(alice.identity)), 'the secret key was printed')

      const created = parseJson(tv.run(['identity', 'create', '--json']))
      const defaultFile = path.join(tv.home, '.aivault', 'identity.key')
      assert.equal(created.file, defaultFile)
      assert.equal(modeOf(defaultFile), 0o600)
      assert.equal(modeOf(path.dirname(defaultFile)), 0o700)
      assert.equal(parseJson(tv.run(['identity', 'show', '--json'])).publicKey, created.publicKey)
    })

    it('never overwrites an identity; a missing or malformed one is a clear error', () => {
      const before = fs.readFileSync(alice.identity)
      const refused = expectJsonError(alice.run(['identity', 'create', '--json']), 1, 'conflict')
      assert.ok(refused.message.includes(alice.identity), refused.message)
      assert.match(expectHumanError(alice.run(['identity', 'create']), 1), /already exists/)
      assert.deepEqual(fs.readFileSync(alice.identity), before)

      const missing = path.join(tv.base, 'none.key')
      expectJsonError(tv.run(['identity', 'show', '--json'], {env: {AIVAULT_IDENTITY: missing}}), 1, 'not_found')
      const broken = path.join(tv.base, 'broken.key')
      fs.writeFileSync(broken, 'public-key: not-a-key\n', {mode: 0o600})
      const error = expectJsonError(tv.run(['identity', 'show', '--json'], {env: {AIVAULT_IDENTITY: broken}}), 1, 'vault_unavailable')
      assert.match(error.message, /identity file .*broken\.key is malformed: public-key is not a base64 32-byte key/)
    })
  })

  describe('init --provider recipients', () => {
    it('adds the creator (default name: the OS user name), making their identity when missing; nothing secret lands in the vault', () => {
      const fresh = path.join(tv.base, 'fresh', 'identity.key')
      const result = parseJson(tv.run(['init', '--provider', 'recipients', '--json'], {env: {AIVAULT_IDENTITY: fresh}}))
      assert.equal(result.provider, 'recipients')
      assert.equal(result.locked, false)
      assert.equal(result.identity.created, true)
      assert.equal(result.identity.file, fresh)
      assert.equal(modeOf(fresh), 0o600)
      assert.deepEqual(result.recipients, [{name: os.userInfo().username, fingerprint: result.identity.fingerprint}])
      const text = tv.allText()
      const vaultText = Object.values(tv.snapshot()).map((b64) => Buffer.from(b64, 'base64').toString('latin1')).join('\n')
      assert.ok(text.includes(secretKeyOf(fresh)) && !vaultText.includes(secretKeyOf(fresh)), 'the secret key is in the vault folder')
      assert.ok(!fs.readFileSync(path.join(tv.root, '.gitignore'), 'utf8').includes('identity'))
      expectJsonError(tv.run(['init', '--provider', 'recipients', '--json'], {env: {AIVAULT_IDENTITY: fresh}}), 1, 'conflict')
    })

    it('refuses an identity inside the vault folder (it would be committed with it), creating nothing', () => {
      const elsewhere = path.join(tv.base, 'shared-vault')
      const inside = path.join(elsewhere, 'me.key')
      const error = expectJsonError(tv.run(['init', '--provider', 'recipients', '--json'], {env: {AIVAULT_DIR: elsewhere, AIVAULT_IDENTITY: inside}}), 1, 'invalid_request')
      assert.match(error.message, /inside the vault folder/)
      assert.ok(!fs.existsSync(elsewhere), 'the refused init created something')
    })

    it('uses an existing identity; --name names the first recipient; --name without recipients is a usage error', () => {
      const result = alice.json(['init', '--provider', 'recipients', '--name', 'alice'])
      assert.equal(result.identity.created, false)
      assert.deepEqual(result.recipients, [{name: 'alice', fingerprint: alice.fingerprint}])
      assert.match(alice.ok(['status']), /Key provider: recipients \(.*alice\.key\)/)
      const usage = path.join(tv.base, 'other')
      expectJsonError(tv.run(['init', '--name', 'x', '--json'], {env: {AIVAULT_DIR: usage}}), 2, 'invalid_request')
      expectJsonError(tv.run(['init', '--provider', 'recipients', '--name', 'no spaces', '--json'], {env: {AIVAULT_DIR: usage}}), 2, 'invalid_request')
      assert.ok(!fs.existsSync(usage), 'a usage error created something')
      assert.ok(auditEvents(tv).some((e) => e.kind === 'recipient.add' && e.name === 'alice' && e.fingerprint === alice.fingerprint))
    })
  })

  describe('recipients list|add|remove', () => {
    beforeEach(() => {
      alice.ok(['init', '--provider', 'recipients', '--name', 'alice'])
      alice.ok(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value', 'sk-cli-0123456789'])
      alice.ok(['secrets', 'create', '--name', 'LONE_TOKEN', '--value', 'lone-value'])
    })

    it('add seals the key for one more member and re-wraps nothing; bad flags are usage errors; conflicts are refused', () => {
      const secretsBefore = tv.snapshot(path.join(tv.root, 'secrets'))
      const kekId = alice.json(['status']).kekId
      const added = alice.json(['recipients', 'add', '--name', 'bob', '--public-key', bob.publicKey])
      assert.deepEqual(added.recipient, {name: 'bob', publicKey: bob.publicKey, fingerprint: bob.fingerprint})
      assert.deepEqual(added.recipients.map((r: any) => [r.name, r.you]), [['alice', true], ['bob', false]])
      assert.deepEqual(tv.snapshot(path.join(tv.root, 'secrets')), secretsBefore, 'add touched a secret record')
      assert.equal(alice.json(['status']).kekId, kekId)
      assert.equal(bob.json(['status']).locked, false)
      assert.deepEqual(bob.json(['recipients', 'list']), {recipients: added.recipients.map((r: any) => ({...r, you: r.name === 'bob'})), verified: true})

      expectJsonError(alice.run(['recipients', 'add', '--name', 'carol', '--public-key', 'AAAA', '--json']), 2, 'invalid_request')
      expectJsonError(alice.run(['recipients', 'add', '--name', 'a b', '--public-key', carol.publicKey, '--json']), 2, 'invalid_request')
      expectJsonError(alice.run(['recipients', 'add', '--name', 'carol', '--json']), 2, 'invalid_request')
      expectJsonError(alice.run(['recipients', 'add', '--name', 'bob', '--public-key', carol.publicKey, '--json']), 1, 'conflict')
      assert.match(expectJsonError(alice.run(['recipients', 'add', '--name', 'bobby', '--public-key', bob.publicKey, '--json']), 1, 'conflict').message, /already recipient bob/)
      const vaultYaml = fs.readFileSync(path.join(tv.root, 'vault.yaml'))
      const byOutsider = expectJsonError(carol.run(['recipients', 'add', '--name', 'carol', '--public-key', carol.publicKey, '--json']), 1, 'vault_locked')
      assert.ok(byOutsider.message.includes(carol.fingerprint))
      assert.deepEqual(fs.readFileSync(path.join(tv.root, 'vault.yaml')), vaultYaml, 'a refused add changed vault.yaml')
      assert.ok(auditEvents(tv).some((e) => e.kind === 'recipient.add' && e.name === 'bob' && e.fingerprint === bob.fingerprint))
    })

    it('remove rotates the key, locks the member out, names what to rotate upstream, and refuses the last recipient', () => {
      alice.ok(['recipients', 'add', '--name', 'bob', '--public-key', bob.publicKey])
      alice.ok(['recipients', 'add', '--name', 'carol', '--public-key', carol.publicKey])
      const before = alice.json(['status']).kekId
      const human = alice.ok(['recipients', 'remove', '--name', 'carol'])
      assert.match(human, /^Removed recipient carol \(.*\); 2 recipients left\./)
      assert.match(human, /Master key rotated: \w+ -> \w+; re-wrapped 2 data keys of 2 secrets\./)
      assert.match(human, /^ {2}credential openai \(provider openai\): OPENAI_API_KEY$/m)
      assert.match(human, /^ {2}secret LONE_TOKEN \(no credential uses it\)$/m)
      const after = alice.json(['status'])
      assert.notEqual(after.kekId, before)
      assert.equal(carol.json(['status']).locked, true)
      expectJsonError(carol.run(['secrets', 'rotate', '--name', 'LONE_TOKEN', '--value', 'x', '--json']), 1, 'vault_locked')
      assert.equal(parseJson(bob.run(['doctor', '--json'])).checked.opened, 2)
      const events = auditEvents(tv)
      const removal = events.find((e) => e.kind === 'recipient.remove')
      assert.deepEqual([removal?.name, removal?.fingerprint, removal?.previousKekId, removal?.kekId], ['carol', carol.fingerprint, before, after.kekId])
      assert.equal(events.filter((e) => e.kind === 'secret.rewrap').length, 2)

      expectJsonError(alice.run(['recipients', 'remove', '--name', 'carol', '--json']), 1, 'not_found')
      // Removing yourself is allowed while others remain; the last recipient never is.
      const self = bob.json(['recipients', 'remove', '--name', 'bob'])
      assert.equal(self.removedYourself, true)
      expectJsonError(bob.run(['secrets', 'rotate', '--name', 'LONE_TOKEN', '--value', 'x', '--json']), 1, 'vault_locked')
      const vaultYaml = fs.readFileSync(path.join(tv.root, 'vault.yaml'))
      const last = expectJsonError(alice.run(['recipients', 'remove', '--name', 'alice', '--json']), 1, 'invalid_request')
      assert.match(last.message, /alice is the last recipient/)
      assert.deepEqual(fs.readFileSync(path.join(tv.root, 'vault.yaml')), vaultYaml)
      assert.ok(!fs.existsSync(path.join(tv.root, 'run', 'rotation.json')), 'a refused removal left a rotation behind')
      assert.equal(parseJson(alice.run(['doctor', '--json'])).checked.opened, 2)
    })

    it('rotate-master on a recipients vault seals the new key to every recipient', () => {
      alice.ok(['recipients', 'add', '--name', 'bob', '--public-key', bob.publicKey])
      const rotated = alice.json(['rotate-master'])
      assert.equal(rotated.provider, 'recipients')
      assert.deepEqual(rotated.settings.recipients.map((r: any) => r.name), ['alice', 'bob'])
      assert.match(alice.ok(['rotate-master']), /sealed to each of the 2 recipients/)
      for (const m of [alice, bob]) assert.equal(parseJson(m.run(['doctor', '--json'])).checked.opened, 2, m.name)
    })

    it('list and add on a vault of another provider say how to switch', () => {
      const other = {AIVAULT_DIR: path.join(tv.base, 'file-vault')}
      tv.ok(['init'], {env: other})
      const error = expectJsonError(tv.run(['recipients', 'list', '--json'], {env: other}), 1, 'invalid_request')
      assert.match(error.message, /uses the file key provider/)
      assert.match(parseJson(tv.run(['recipients', 'add', '--name', 'bob', '--public-key', bob.publicKey, '--json'], {env: other})).error.hint, /aivault recipients init/)
    })
  })

  describe('recipients init: switching a file vault', () => {
    it('switches with a new master key (the old key file keeps the old one, which wraps no record now); running it again is a conflict', () => {
      const file = alice.json(['init'])
      alice.ok(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value', 'sk-switch-0123456789'])
      const oldKey = fs.readFileSync(file.paths.keyFile, 'utf8')
      const switched = alice.json(['recipients', 'init', '--name', 'alice'])
      assert.equal(switched.previousProvider, 'file')
      assert.equal(switched.previousKekId, file.kekId)
      assert.notEqual(switched.kekId, file.kekId)
      assert.deepEqual([switched.secrets, switched.rewrapped], [1, 1])
      assert.deepEqual(switched.recipients.map((r: any) => [r.name, r.fingerprint, r.you]), [['alice', alice.fingerprint, true]])
      assert.equal(switched.previousKeyFile, file.paths.keyFile)
      assert.equal(fs.readFileSync(file.paths.keyFile, 'utf8'), oldKey, 'the old key file changed')
      assert.ok(!fs.existsSync(`${file.paths.keyFile}.next`))
      for (const name of fs.readdirSync(path.join(tv.root, 'secrets'))) {
        assert.match(fs.readFileSync(path.join(tv.root, 'secrets', name), 'utf8'), new RegExp(`kekId: "?${switched.kekId}`), name)
      }
      const status = alice.json(['status'])
      assert.deepEqual([status.provider, status.kekId, status.locked], ['recipients', switched.kekId, false])
      assert.equal(parseJson(alice.run(['doctor', '--json'])).checked.opened, 1)
      expectJsonError(bob.run(['secrets', 'rotate', '--name', 'OPENAI_API_KEY', '--value', 'x', '--json']), 1, 'vault_locked')
      expectJsonError(alice.run(['recipients', 'init', '--json']), 1, 'conflict')
      const kinds = auditEvents(tv).map((e) => e.kind)
      assert.ok(kinds.includes('vault.rotate_master') && kinds.includes('recipient.add'), kinds.join(','))
    })

    it('an env vault is refused with how to move instead', () => {
      const key = tv.ok(['keygen']).trim()
      tv.ok(['init', '--provider', 'env'], {env: {AIVAULT_KEY: key}})
      const error = expectJsonError(alice.run(['recipients', 'init', '--json'], {env: {AIVAULT_KEY: key}}), 1, 'invalid_request')
      assert.match(error.message, /only a file vault can switch/)
    })
  })
})

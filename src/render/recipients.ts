import type {IdentityInfo} from '../vault/keys/identity'
import type {AcceptKeyResult, RecipientChange, RecipientsList, RecipientView, RemoveResult, SwitchResult, UpstreamExposure} from '../vault/recipients'
import {plural, table} from './text'

export function renderIdentity(identity: IdentityInfo, created: boolean): string {
  const lines = [
    ...(created ? [`Identity created at ${identity.file} (keep it private; it is never part of a vault)`] : []),
    `Public key:  ${identity.publicKey}`,
    `Fingerprint: ${identity.fingerprint}`,
  ]
  if (created) lines.push('Send the public key to a recipient of the vault, who runs "aivault recipients add --name <you> --public-key <key>".')
  return lines.join('\n')
}

function recipientsTable(recipients: RecipientView[]): string {
  return table(
    ['NAME', 'FINGERPRINT', 'PUBLIC KEY', ''],
    recipients.map((r) => [r.name, r.fingerprint, r.publicKey, r.you ? '(you)' : '']),
  )
}

export function renderRecipientsList(list: RecipientsList): string {
  const lines = [recipientsTable(list.recipients)]
  if (!list.verified) lines.push('Not verified: your identity cannot open this vault, so the list is shown as vault.yaml has it.')
  return lines.join('\n')
}

export function renderRecipientAdded(change: RecipientChange): string {
  return [
    `Added recipient ${change.recipient.name} (${change.recipient.fingerprint}); the vault now has ${plural(change.recipients.length, 'recipient')}.`,
    'Commit and push vault.yaml so they can open the vault after pulling.',
  ].join('\n')
}

function exposureLines(name: string, exposure: UpstreamExposure): string[] {
  if (exposure.credentials.length === 0 && exposure.secrets.length === 0) return [`${name} could read no secrets: nothing to rotate upstream.`]
  const lines = [
    `${name} could read every secret of this vault, and old copies stay readable to anyone who kept the old key (git history).`,
    'Rotate these upstream (at the provider that issued them), then "aivault secrets rotate":',
  ]
  for (const c of exposure.credentials) lines.push(`  credential ${c.id} (provider ${c.provider}): ${c.secrets.join(', ')}`)
  for (const s of exposure.secrets) lines.push(`  secret ${s} (no credential uses it)`)
  return lines
}

export function renderRecipientRemoved(result: RemoveResult): string {
  const lines = [
    `Removed recipient ${result.recipient.name} (${result.recipient.fingerprint}); ${plural(result.recipients.length, 'recipient')} left.`,
    `Master key rotated: ${result.previousKekId} -> ${result.kekId}; re-wrapped ${plural(result.rewrapped, 'data key')} of ${plural(result.secrets, 'secret')}.`,
  ]
  if (result.removedYourself) lines.push('You removed yourself: this identity cannot open the vault any more.')
  lines.push(...exposureLines(result.recipient.name, result.rotateUpstream), 'Commit and push the vault so every clone uses the new key.')
  return lines.join('\n')
}

export function renderSwitch(result: SwitchResult): string {
  const lines = [
    `This vault now uses the recipients key provider (was ${result.previousProvider}).`,
    `Master key rotated: ${result.previousKekId} -> ${result.kekId}; re-wrapped ${plural(result.rewrapped, 'data key')} of ${plural(result.secrets, 'secret')}.`,
  ]
  if (result.identity.created) lines.push(`Identity created at ${result.identity.file}`)
  lines.push(recipientsTable(result.recipients))
  if (result.previousKeyFile) lines.push(`The key file ${result.previousKeyFile} is no longer used; it still opens copies of the vault from before the switch (git history).`)
  return lines.join('\n')
}

export function renderAcceptKey(result: AcceptKeyResult): string {
  if (result.previousKekId === result.kekId) return `This machine already follows master key ${result.kekId}; nothing changed.`
  const from = result.previousKekId ? `instead of ${result.previousKekId}` : '(it remembered none)'
  return `This machine now follows master key ${result.kekId} ${from}; the next change made by a member is followed after "git pull".`
}

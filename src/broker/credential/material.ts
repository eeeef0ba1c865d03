import {AivaultError} from '../../errors'
import {matchHostPattern} from '../../registry/host-pattern'
import {canUseSecret, openSecret, updateSecretValue} from '../../vault/secret-value'
import type {Vault} from '../../vault/vault'
import type {AuthRuntime} from '../auth'
import type {BrokerDeps} from '../deps'
import type {AuthMaterial} from '../auth/types'
import type {InvocationContext, ResolvedCredential} from './resolve-credential'
import {checkUpstreamAddress} from '../request/ssrf'
import type {TestOverrides} from '../request/test-mode'
import {sendUpstream} from '../upstream/send'

/**
 * Decrypt only the chosen credential's secrets (SPEC §7 step 10), after checking that this
 * invocation's workspace/group may use each one, that none is pinned to another provider, and
 * that each goes only to the tenant host it is sealed to (SPEC §4; the host is part of the
 * associated data, so the record read here is the one that opens).
 */
export async function loadMaterial(vault: Vault, credential: ResolvedCredential, ctx: InvocationContext): Promise<AuthMaterial> {
  const values: Record<string, string> = {}
  for (const [placeholder, secretId] of Object.entries(credential.secrets)) {
    if (!secretId) throw new AivaultError('credential_not_found', `credential ${credential.id} has no secret for ${placeholder}`)
    const record = vault.secrets.read(secretId)
    if (!canUseSecret(record, ctx)) {
      throw new AivaultError('secret_not_accessible', `secret ${record.name} is not available to this workspace/group`)
    }
    if (record.pinnedProvider && record.pinnedProvider !== credential.provider) {
      throw new AivaultError('policy_violation', `secret ${record.name} is pinned to provider ${record.pinnedProvider}`)
    }
    checkTenant(record, credential)
    values[placeholder] = (await openSecret(vault, secretId, record)).value
  }
  return {values}
}

function checkTenant(record: {name: string; tenantHost?: string}, credential: ResolvedCredential): void {
  if (record.tenantHost === credential.tenantHost) return
  if (!record.tenantHost) {
    throw new AivaultError('policy_violation', `secret ${record.name} is not bound to tenant host ${credential.tenantHost}`, {
      hint: `bind it (if that is its tenant) with "aivault credential update ${credential.id} --host ${credential.tenantHost}"`,
    })
  }
  throw new AivaultError('policy_violation', `secret ${record.name} is bound to tenant host ${record.tenantHost}; credential ${credential.id} ${credential.tenantHost ? `names ${credential.tenantHost}` : 'names no tenant'}`)
}

const MAX_TOKEN_REPLY = 1 << 20

/** For OAuth2 credentials: the token store (the secret record) and the token endpoint client. */
export function oauthRuntime({vault, mode}: BrokerDeps, credential: ResolvedCredential, overrides: TestOverrides): AuthRuntime['oauth'] {
  if (!('o_auth2' in credential.auth)) return undefined
  const secretId = Object.values(credential.secrets)[0]
  return {
    key: `${vault.paths.root}\0${secretId}`,
    store: {
      read: async () => (await openSecret(vault, secretId)).value,
      update: (mutate) => updateSecretValue(vault, secretId, mutate),
    },
    post: async (url, form) => {
      // The token endpoint must be https and one of the credential's own hosts (SPEC §8).
      if (url.protocol !== 'https:' || !credential.hosts.some((h) => matchHostPattern(h.replace(/:\d+$/, ''), url.hostname))) {
        throw new AivaultError('policy_violation', `the token endpoint ${url.host} must be https on one of the credential's hosts`)
      }
      const port = url.port === '' ? 443 : Number(url.port)
      const address = await checkUpstreamAddress(url.hostname, port, overrides, mode.dnsCacheMs)
      const body = Buffer.from(form.toString())
      const response = await sendUpstream(mode, {
        method: 'POST',
        host: url.hostname,
        port,
        target: url.pathname + url.search,
        headers: [['content-type', 'application/x-www-form-urlencoded'], ['accept', 'application/json']],
        body,
        address,
        timeoutMs: 30_000,
        overrides,
      })
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length
        if (size > MAX_TOKEN_REPLY) throw new AivaultError('oauth_refresh_failed', 'the token endpoint reply is too large')
        chunks.push(chunk as Buffer)
      }
      return {status: response.statusCode, body: Buffer.concat(chunks).toString('utf8')}
    },
  }
}

import {findCapability} from '../broker/credential/capabilities'
import {AivaultError} from '../errors'
import type {Registry} from '../registry/registry'
import type {CredentialRecord} from '../vault/store/credential-record'
import type {Vault} from '../vault/vault'
import {checkToken} from './proxy-tokens'
import {readServeAddress} from './serve-address'

/** Base-URL variables of common SDKs, by provider: the part after /v/<credential>. */
const SDK_BASES: Record<string, Array<[string, string]>> = {
  openai: [['OPENAI_BASE_URL', '/v1']],
  anthropic: [['ANTHROPIC_BASE_URL', '']],
  openrouter: [['OPENROUTER_BASE_URL', '/api/v1']],
  groq: [['GROQ_BASE_URL', '/openai/v1']],
  mistral: [['MISTRAL_BASE_URL', '']],
  gemini: [['GOOGLE_GEMINI_BASE_URL', '']],
  github: [['GITHUB_API_URL', '']],
}
const KEY_VARS: Record<string, string> = {openai: 'OPENAI_API_KEY', anthropic: 'ANTHROPIC_API_KEY', openrouter: 'OPENROUTER_API_KEY', groq: 'GROQ_API_KEY', mistral: 'MISTRAL_API_KEY', gemini: 'GEMINI_API_KEY', github: 'GITHUB_TOKEN'}

export const DEFAULT_SERVE = {host: '127.0.0.1', port: 8787}

/** Where serve is: the flags when given, else the running serve's run/serve.json, else the default port. */
export function serveBase(vault: Vault, flags: {host?: string; port?: number}): {base: string; from: 'flags' | 'run/serve.json' | 'default'} {
  const url = (host: string, port: number) => `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  if (flags.host !== undefined || flags.port !== undefined) {
    return {base: url(flags.host ?? DEFAULT_SERVE.host, flags.port ?? DEFAULT_SERVE.port), from: 'flags'}
  }
  const running = vault.exists() ? readServeAddress(vault.paths) : undefined
  // A serve listening on every address is reached on loopback.
  if (running) return {base: url(['0.0.0.0', '::'].includes(running.host) ? '127.0.0.1' : running.host, running.port), from: 'run/serve.json'}
  return {base: url(DEFAULT_SERVE.host, DEFAULT_SERVE.port), from: 'default'}
}

const isGlobal = (c: CredentialRecord) => c.workspaceId === null && c.groupId === null

/**
 * `export` variables pointing common SDKs at serve: one credential per provider (the global
 * one first, then by id, so the choice never depends on listing order). With a proxy token,
 * only the providers its capabilities (and credential) cover, each with the token as its key.
 */
export function sdkVariables(vault: Vault, registry: Registry, options: {base: string; token?: string}): Record<string, string> {
  let providers: Set<string> | undefined
  let onlyCredential: string | null = null
  if (options.token !== undefined) {
    const record = checkToken(vault, options.token)
    providers = new Set(record.capabilities.flatMap((id) => {
      try {
        return [findCapability(vault, registry, id).provider]
      } catch (error) {
        if (error instanceof AivaultError) return [] // a capability deleted since the token was minted
        throw error
      }
    }))
    onlyCredential = record.credential
  }
  const credentials = (vault.exists() ? vault.credentials.list().records : [])
    .filter((c) => (onlyCredential === null || c.id === onlyCredential) && (providers === undefined || providers.has(c.provider)))
    .sort((a, b) => Number(isGlobal(b)) - Number(isGlobal(a)) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const variables: Record<string, string> = {}
  for (const credential of credentials) {
    for (const [name, suffix] of SDK_BASES[credential.provider] ?? []) {
      if (variables[name]) continue
      variables[name] = `${options.base}/v/${encodeURIComponent(credential.id)}${suffix}`
      variables[KEY_VARS[credential.provider]] = options.token ?? '<proxy token from aivault token mint>'
    }
  }
  return variables
}

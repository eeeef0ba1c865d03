/**
 * Provider definitions as written in registry/<provider>.yaml (same field names as the
 * original tool's JSON registry). Auth is externally tagged with snake_case keys.
 */

export interface HeaderAuth {header: {header_name: string; value_template: string}}
export interface QueryAuth {query: {param_name: string; value_template?: string}}
export interface PathAuth {path: {prefix_template: string}}
/** username/password templates; when absent they come from the `username`/`password` placeholders or the secret JSON. */
export interface BasicAuth {basic: {username?: string; password?: string}}
export interface MultiHeaderAuth {multi_header: Array<{header_name: string; value_template: string}>}
export interface MultiQueryAuth {multi_query: Array<{param_name: string; value_template: string}>}
export interface OAuth2Auth {
  /** `authorization_endpoint` is where `aivault oauth setup` sends the operator for consent. */
  o_auth2: {grant_type: 'refresh_token' | 'client_credentials'; token_endpoint: string; authorization_endpoint?: string; scopes?: string[]}
}
export interface AwsSigV4Auth {aws_sig_v4: {service: string; region: string}}
export interface HmacAuth {
  hmac: {algorithm: 'sha256' | 'sha512'; header_name: string; value_template: string; input?: 'canonical' | 'body'}
}
export interface MtlsAuth {mtls: Record<string, never>}
/** No HTTP auth: the plugin's `aivault:provider` hook receives the secrets and serves the capability. */
export interface PluginAuth {plugin: Record<string, never>}

export type AuthSpec =
  | HeaderAuth
  | QueryAuth
  | PathAuth
  | BasicAuth
  | MultiHeaderAuth
  | MultiQueryAuth
  | OAuth2Auth
  | AwsSigV4Auth
  | HmacAuth
  | MtlsAuth
  | PluginAuth

export type AuthKind = 'header' | 'query' | 'path' | 'basic' | 'multi_header' | 'multi_query' | 'o_auth2' | 'aws_sig_v4' | 'hmac' | 'mtls' | 'plugin'

export interface CapabilityAllow {
  hosts: string[]
  methods: string[]
  pathPrefixes: string[]
}

export interface CapabilityDef {
  id: string
  provider: string
  title?: string
  description?: string
  allow: CapabilityAllow
  /** `plugin` when a plugin hook serves the capability instead of HTTP (SPEC §15, Plugins). */
  transport?: 'http' | 'plugin'
}

export interface CredentialAlternative {
  id: string
  vaultSecrets: Record<string, string>
  auth: AuthSpec
  hosts: string[]
  capabilities?: CapabilityDef[]
  priority?: number
  upstreamPathPrefix?: string
}

export interface ProviderDef {
  provider: string
  title?: string
  docsUrl?: string
  description?: string
  /** Canonical secret name -> auth template placeholder (`OPENAI_API_KEY: secret`). */
  vaultSecrets: Record<string, string>
  auth: AuthSpec
  hosts: string[]
  capabilities: CapabilityDef[]
  credentialAlternatives?: CredentialAlternative[]
  /** Set at load time (never from YAML) on a provider a plugin adds: the plugin's package name. */
  plugin?: string
}

/** A secret name claimed by a provider, and the placeholder it fills in the auth templates. */
export interface SecretClaim {
  provider: string
  placeholder: string
  /** Set when only a credential alternative (not the provider's main auth) uses the secret. */
  alternative?: string
}

/** `dist/registry.json`, written by scripts/build-registry.js. */
export interface BuiltRegistry {
  /** sha256 (hex) over the registry sources; see src/registry/digest.ts. */
  digest: string
  /** sha256 (hex) of each source file, keyed by its path relative to registry/ (`openai.yaml`). */
  files: Record<string, string>
  /** Sorted by provider id. */
  providers: ProviderDef[]
}

/** A problem in a registry file: `file` as displayed, `pointer` a JSON pointer ('' = the document). */
export interface RegistryIssue {
  file: string
  pointer: string
  message: string
}

export function authKind(auth: AuthSpec): AuthKind {
  return Object.keys(auth)[0] as AuthKind
}

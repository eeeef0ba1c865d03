/**
 * Registry rules that JSON Schema cannot express, and the translation of schema errors into
 * issues that name a file and a JSON pointer. Pure functions with no dependencies, shared by
 * the build (scripts/build-registry.js) and by run-time validation of plugin providers.
 *
 * The checks below assume the provider already passed the schema.
 */
import {hostPatternCovers, intersectHostPatterns, matchHostPattern} from './host-pattern'
import {AuthSpec, CapabilityDef, ProviderDef, RegistryIssue} from './types'

export const AUTH_KINDS = [
  'header',
  'query',
  'path',
  'basic',
  'multi_header',
  'multi_query',
  'o_auth2',
  'aws_sig_v4',
  'hmac',
  'mtls',
  'plugin',
] as const

/** `file: /pointer: message`; the document itself (pointer '') is shown as `(root)`. */
export function formatIssue(issue: RegistryIssue): string {
  return `${issue.file}: ${issue.pointer === '' ? '(root)' : issue.pointer}: ${issue.message}`
}

/** Builds a JSON pointer (RFC 6901) from path segments. */
export function jsonPointer(...segments: Array<string | number>): string {
  return segments.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('')
}

// ---------------------------------------------------------------------------------------------
// Schema errors (ajv's ErrorObject shape; declared here so this module does not import ajv)

export interface SchemaError {
  instancePath: string
  schemaPath: string
  keyword: string
  params: Record<string, unknown>
  message?: string
}

const PATTERN_MESSAGES: Record<string, string> = {
  '#/definitions/hostPattern/pattern':
    'must be a lower-case host name, or *.suffix with at least two suffix labels (no port, no trailing dot)',
  '#/definitions/pathPrefix/pattern': 'must be "/" or a path starting with "/" without empty segments or a trailing slash',
  '#/definitions/pathPrefix/not': 'must not contain "." or ".." segments',
  '#/definitions/httpsUrl/pattern': 'must be an https:// URL',
  '#/definitions/text/pattern': 'must be a single line',
  '#/definitions/template/pattern': 'must be a single line',
}

function describeSchemaError(error: SchemaError): {pointer: string; message: string} | undefined {
  const at = error.instancePath
  const p = error.params
  switch (error.keyword) {
    case 'required':
      return {pointer: `${at}/${String(p.missingProperty)}`, message: 'is required'}
    case 'additionalProperties': {
      const name = String(p.additionalProperty)
      const pointer = at + jsonPointer(name)
      if (/\/auth$/.test(at)) return {pointer, message: `unknown auth kind "${name}" (expected one of ${AUTH_KINDS.join(', ')})`}
      return {pointer, message: 'is not an allowed property'}
    }
    case 'minProperties':
    case 'maxProperties':
      if (/\/auth$/.test(at)) return {pointer: at, message: 'must declare exactly one auth kind'}
      break
    case 'propertyNames':
      return {pointer: at + jsonPointer(String(p.propertyName)), message: 'is not a valid secret name (^[A-Za-z_][A-Za-z0-9_.-]*$)'}
    case 'enum':
      return {pointer: at, message: `must be one of ${(p.allowedValues as unknown[]).join(', ')}`}
    case 'pattern':
    case 'not': {
      // The nested error ajv reports for a bad property name; the propertyNames error names it.
      if (error.schemaPath.startsWith('#/definitions/secretName/')) return undefined
      if (/\/capabilities\/\d+\/id$/.test(at)) return {pointer: at, message: 'must be "<provider>/<name>"'}
      const known = PATTERN_MESSAGES[error.schemaPath]
      if (known) return {pointer: at, message: known}
      if (error.keyword === 'pattern') return {pointer: at, message: `must match ${String(p.pattern)}`}
      break
    }
  }
  return {pointer: at, message: error.message ?? error.keyword}
}

/** Schema errors as issues of `file`, de-duplicated, in report order. */
export function issuesFromSchemaErrors(file: string, errors: readonly SchemaError[]): RegistryIssue[] {
  const seen = new Set<string>()
  const out: RegistryIssue[] = []
  for (const error of errors) {
    const described = describeSchemaError(error)
    if (!described) continue
    const issue = {file, ...described}
    const key = formatIssue(issue)
    if (seen.has(key)) continue
    seen.add(key)
    out.push(issue)
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// One provider

const PLACEHOLDER_REF = /\{\{([^{}]*)\}\}/g
const PLACEHOLDER_NAME = /^[a-z_][a-z0-9_]*$/

/** The placeholders of a template, or an error message when the template is malformed. */
export function templatePlaceholders(template: string): {names: string[]; error?: string} {
  const names: string[] = []
  for (const match of template.matchAll(PLACEHOLDER_REF)) {
    if (!PLACEHOLDER_NAME.test(match[1])) return {names, error: `malformed placeholder "${match[0]}"`}
    names.push(match[1])
  }
  const rest = template.replace(PLACEHOLDER_REF, '')
  if (rest.includes('{{') || rest.includes('}}')) return {names, error: 'unbalanced "{{" or "}}"'}
  return {names}
}

/** Each template of an auth spec with its pointer below `base`, and the placeholders it may use besides the declared ones. */
function authTemplates(auth: AuthSpec, base: string): Array<{pointer: string; template: string; extra: string[]}> {
  const out: Array<{pointer: string; template: string; extra: string[]}> = []
  if ('header' in auth) out.push({pointer: `${base}/header/value_template`, template: auth.header.value_template, extra: []})
  if ('query' in auth && auth.query.value_template !== undefined) {
    out.push({pointer: `${base}/query/value_template`, template: auth.query.value_template, extra: []})
  }
  if ('path' in auth) out.push({pointer: `${base}/path/prefix_template`, template: auth.path.prefix_template, extra: []})
  if ('basic' in auth) {
    for (const field of ['username', 'password'] as const) {
      const template = auth.basic[field]
      if (template !== undefined) out.push({pointer: `${base}/basic/${field}`, template, extra: ['username', 'password']})
    }
  }
  if ('multi_header' in auth) {
    auth.multi_header.forEach((h, i) => out.push({pointer: `${base}/multi_header/${i}/value_template`, template: h.value_template, extra: []}))
  }
  if ('multi_query' in auth) {
    auth.multi_query.forEach((q, i) => out.push({pointer: `${base}/multi_query/${i}/value_template`, template: q.value_template, extra: []}))
  }
  if ('hmac' in auth) out.push({pointer: `${base}/hmac/value_template`, template: auth.hmac.value_template, extra: ['signature']})
  return out
}

function checkAuth(file: string, auth: AuthSpec, placeholders: Set<string>, hosts: string[], base: string): RegistryIssue[] {
  const issues: RegistryIssue[] = []
  for (const {pointer, template, extra} of authTemplates(auth, base)) {
    const {names, error} = templatePlaceholders(template)
    if (error) issues.push({file, pointer, message: error})
    for (const name of names) {
      if (!placeholders.has(name) && !extra.includes(name)) {
        issues.push({file, pointer, message: `placeholder {{${name}}} is not declared in vaultSecrets`})
      }
    }
    if (extra.includes('signature') && !names.includes('signature')) {
      issues.push({file, pointer, message: 'must contain {{signature}}'})
    }
  }
  const names = (list: Array<{header_name?: string; param_name?: string}>, key: 'header_name' | 'param_name', kind: string) => {
    const seen = new Set<string>()
    list.forEach((entry, i) => {
      const name = String(entry[key]).toLowerCase()
      if (seen.has(name)) issues.push({file, pointer: `${base}/${kind}/${i}/${key}`, message: `duplicate ${key} "${entry[key]}"`})
      seen.add(name)
    })
  }
  if ('multi_header' in auth) names(auth.multi_header, 'header_name', 'multi_header')
  if ('multi_query' in auth) names(auth.multi_query, 'param_name', 'multi_query')
  if ('o_auth2' in auth) {
    const endpointHost = new URL(auth.o_auth2.token_endpoint).hostname
    if (!hosts.some((pattern) => matchHostPattern(pattern, endpointHost))) {
      issues.push({file, pointer: `${base}/o_auth2/token_endpoint`, message: `host ${endpointHost} is not in the hosts list`})
    }
  }
  return issues
}

function checkVaultSecrets(file: string, vaultSecrets: Record<string, string>, base: string): RegistryIssue[] {
  const issues: RegistryIssue[] = []
  const owner = new Map<string, string>()
  for (const [name, placeholder] of Object.entries(vaultSecrets)) {
    const previous = owner.get(placeholder)
    if (previous !== undefined) {
      issues.push({file, pointer: base + jsonPointer(name), message: `placeholder "${placeholder}" is already filled by ${previous}`})
    }
    owner.set(placeholder, name)
  }
  return issues
}

function checkCapabilities(file: string, provider: string, capabilities: CapabilityDef[], hosts: string[], base: string): RegistryIssue[] {
  const issues: RegistryIssue[] = []
  const ids = new Set<string>()
  capabilities.forEach((capability, i) => {
    const at = `${base}/${i}`
    if (capability.provider !== provider) {
      issues.push({file, pointer: `${at}/provider`, message: `must be "${provider}" (the file's provider), not "${capability.provider}"`})
    }
    if (!capability.id.startsWith(`${provider}/`)) {
      issues.push({file, pointer: `${at}/id`, message: `capability "${capability.id}" must start with "${provider}/"`})
    }
    if (ids.has(capability.id)) issues.push({file, pointer: `${at}/id`, message: `duplicate capability id "${capability.id}"`})
    ids.add(capability.id)
    const capHosts = capability.allow.hosts
    let covered = true
    capHosts.forEach((host, j) => {
      if (!hosts.some((pattern) => hostPatternCovers(pattern, host))) {
        covered = false
        issues.push({file, pointer: `${at}/allow/hosts/${j}`, message: `host ${host} does not match any of the hosts ${hosts.join(', ')}`})
      }
    })
    const effective = intersectHostPatterns(hosts, capHosts)
    if (covered && effective.length !== 1) {
      issues.push({
        file,
        pointer: `${at}/allow/hosts`,
        message: `must leave exactly one host after intersecting with the hosts (got ${effective.length}: ${effective.join(', ')})`,
      })
    }
  })
  return issues
}

/** `auth: {plugin: {}}` and `transport: plugin` go together: a plugin hook serves all of the provider's capabilities or none. */
function checkTransports(file: string, def: ProviderDef): RegistryIssue[] {
  const viaPlugin = 'plugin' in def.auth
  const issues: RegistryIssue[] = []
  def.capabilities.forEach((capability, i) => {
    if ((capability.transport === 'plugin') === viaPlugin) return
    const message = viaPlugin ? 'must be "plugin": the provider\'s auth is {plugin: {}}' : 'transport "plugin" needs the provider\'s auth to be {plugin: {}}'
    issues.push({file, pointer: `/capabilities/${i}/transport`, message})
  })
  return issues
}

/**
 * Rules for one schema-valid provider. `fileName` (the base name, e.g. `openai.yaml`), when
 * given, must be `<provider>.yaml`.
 */
export function checkProvider(file: string, def: ProviderDef, fileName?: string): RegistryIssue[] {
  const issues: RegistryIssue[] = []
  if (fileName !== undefined && fileName !== `${def.provider}.yaml`) {
    issues.push({file, pointer: '/provider', message: `provider "${def.provider}" must be defined in ${def.provider}.yaml, not ${fileName}`})
  }
  issues.push(...checkVaultSecrets(file, def.vaultSecrets, '/vaultSecrets'))
  issues.push(...checkAuth(file, def.auth, new Set(Object.values(def.vaultSecrets)), def.hosts, '/auth'))
  issues.push(...checkCapabilities(file, def.provider, def.capabilities, def.hosts, '/capabilities'))
  issues.push(...checkTransports(file, def))

  const altIds = new Set<string>()
  ;(def.credentialAlternatives ?? []).forEach((alt, k) => {
    const at = `/credentialAlternatives/${k}`
    if (altIds.has(alt.id)) issues.push({file, pointer: `${at}/id`, message: `duplicate credential alternative id "${alt.id}"`})
    altIds.add(alt.id)
    issues.push(...checkVaultSecrets(file, alt.vaultSecrets, `${at}/vaultSecrets`))
    for (const [name, placeholder] of Object.entries(alt.vaultSecrets)) {
      const main = def.vaultSecrets[name]
      if (main !== undefined && main !== placeholder) {
        issues.push({
          file,
          pointer: `${at}/vaultSecrets${jsonPointer(name)}`,
          message: `${name} fills "${main}" in the main auth; an alternative must use the same placeholder`,
        })
      }
    }
    issues.push(...checkAuth(file, alt.auth, new Set(Object.values(alt.vaultSecrets)), alt.hosts, `${at}/auth`))
    if (alt.capabilities) issues.push(...checkCapabilities(file, def.provider, alt.capabilities, alt.hosts, `${at}/capabilities`))
  })
  return issues
}

// ---------------------------------------------------------------------------------------------
// Several providers

export interface RegistryEntry {
  /** How the file is named in messages (`registry/openai.yaml`). */
  file: string
  /** Base name used for the `<provider>.yaml` rule; omit to skip that rule. */
  fileName?: string
  def: ProviderDef
}

/** The secret names a provider claims (main and alternatives), with the pointer of each claim. */
export function secretClaims(def: ProviderDef): Array<{name: string; pointer: string}> {
  const out = Object.keys(def.vaultSecrets).map((name) => ({name, pointer: `/vaultSecrets${jsonPointer(name)}`}))
  ;(def.credentialAlternatives ?? []).forEach((alt, k) => {
    for (const name of Object.keys(alt.vaultSecrets)) {
      if (!out.some((claim) => claim.name === name)) out.push({name, pointer: `/credentialAlternatives/${k}/vaultSecrets${jsonPointer(name)}`})
    }
  })
  return out
}

/**
 * Per-provider rules for every entry, then the rules across files: provider ids unique, and a
 * secret name claimed by at most one provider. Issues are reported on the later entry.
 */
export function checkRegistry(entries: readonly RegistryEntry[]): RegistryIssue[] {
  const issues: RegistryIssue[] = []
  const providerFile = new Map<string, string>()
  const claimedBy = new Map<string, {provider: string; file: string}>()
  for (const {file, fileName, def} of entries) {
    issues.push(...checkProvider(file, def, fileName))
    const previous = providerFile.get(def.provider)
    if (previous !== undefined) {
      issues.push({file, pointer: '/provider', message: `provider "${def.provider}" is already defined in ${previous}`})
      continue
    }
    providerFile.set(def.provider, file)
    for (const {name, pointer} of secretClaims(def)) {
      const owner = claimedBy.get(name)
      if (owner) issues.push({file, pointer, message: `secret ${name} is already claimed by provider "${owner.provider}" (${owner.file})`})
      else claimedBy.set(name, {provider: def.provider, file})
    }
  }
  return issues
}

import {Flags} from '@oclif/core'

import {usageError} from '../errors'
import type {AuthSpec} from '../registry/types'
import {splitKeyValue} from './flags'

/** Auth flags of `credential create` (SPEC §5, §15). */
export const authFlags = {
  auth: Flags.string({description: 'Auth strategy (custom providers): header, query, path, basic, multi-header, multi-query, oauth2, aws-sigv4, hmac, mtls.'}),
  'header-name': Flags.string({description: 'header/hmac: header to set (header default: authorization).'}),
  'value-template': Flags.string({description: 'header: value template (default "Bearer {{secret}}"); hmac: with {{signature}}.'}),
  'query-param': Flags.string({description: 'query: parameter name (default api_key).'}),
  'auth-header': Flags.string({description: 'multi-header: NAME=TEMPLATE (repeatable).', multiple: true}),
  'auth-query': Flags.string({description: 'multi-query: NAME=TEMPLATE (repeatable).', multiple: true}),
  'grant-type': Flags.string({description: 'oauth2: refresh_token or client_credentials.', options: ['refresh_token', 'client_credentials']}),
  'token-endpoint': Flags.string({description: 'oauth2: https token endpoint on one of the credential hosts.'}),
  scope: Flags.string({description: 'oauth2: a scope to request (repeatable).', multiple: true}),
  'aws-service': Flags.string({description: 'aws-sigv4: service name (s3, bedrock, ...).'}),
  'aws-region': Flags.string({description: 'aws-sigv4: region (us-east-1, ...).'}),
  'hmac-algorithm': Flags.string({description: 'hmac: sha256 or sha512.', options: ['sha256', 'sha512']}),
  'hmac-input': Flags.string({description: 'hmac: what is signed: canonical (default) or body.', options: ['canonical', 'body']}),
  'path-prefix-template': Flags.string({description: 'path: prefix with {{secret}}, e.g. /bot{{secret}}.'}),
}

type AuthFlagValues = {[K in keyof typeof authFlags]?: K extends 'auth-header' | 'auth-query' | 'scope' ? string[] : string}

const AUTH_ALIASES: Record<string, string> = {
  header: 'header',
  query: 'query',
  path: 'path',
  basic: 'basic',
  'multi-header': 'multi_header',
  multi_header: 'multi_header',
  'multi-query': 'multi_query',
  multi_query: 'multi_query',
  oauth2: 'o_auth2',
  o_auth2: 'o_auth2',
  'o-auth2': 'o_auth2',
  'aws-sigv4': 'aws_sig_v4',
  aws_sig_v4: 'aws_sig_v4',
  'aws-sig-v4': 'aws_sig_v4',
  hmac: 'hmac',
  mtls: 'mtls',
}

const USED_BY: Record<string, string[]> = {
  header: ['header-name', 'value-template'],
  query: ['query-param'],
  path: ['path-prefix-template'],
  basic: [],
  multi_header: ['auth-header'],
  multi_query: ['auth-query'],
  o_auth2: ['grant-type', 'token-endpoint', 'scope'],
  aws_sig_v4: ['aws-service', 'aws-region'],
  hmac: ['hmac-algorithm', 'hmac-input', 'header-name', 'value-template'],
  mtls: [],
}

/** Build the auth spec from flags; malformed combinations are usage errors (exit 2). */
export function authFromFlags(flags: AuthFlagValues, hosts: string[]): AuthSpec | undefined {
  const given = Object.keys(USED_BY).flatMap((k) => USED_BY[k]).filter((name, i, all) => all.indexOf(name) === i && flags[name as keyof AuthFlagValues] !== undefined)
  if (flags.auth === undefined) {
    if (given.length > 0) throw usageError(`--${given[0]} needs --auth`, 'add --auth <strategy>')
    return undefined
  }
  const kind = AUTH_ALIASES[flags.auth]
  if (!kind) throw usageError(`unknown --auth ${JSON.stringify(flags.auth)}`, `use one of ${Object.keys(USED_BY).join(', ')} (kebab spellings accepted)`)
  const stray = given.filter((name) => !USED_BY[kind].includes(name))
  if (stray.length > 0) throw usageError(`--${stray[0]} does not apply to --auth ${flags.auth}`)
  const pairs = (list: string[] | undefined, flag: string) => (list ?? []).map((raw, i) => splitKeyValue(raw, flag, i + 1))
  switch (kind) {
    case 'header':
      return {header: {header_name: flags['header-name'] ?? 'authorization', value_template: flags['value-template'] ?? 'Bearer {{secret}}'}}
    case 'query':
      return {query: {param_name: flags['query-param'] ?? 'api_key'}}
    case 'path': {
      const template = flags['path-prefix-template']
      if (!template || !template.startsWith('/') || !template.includes('{{secret}}')) {
        throw usageError('--auth path needs --path-prefix-template starting with / and containing {{secret}}', 'e.g. --path-prefix-template "/bot{{secret}}"')
      }
      return {path: {prefix_template: template}}
    }
    case 'basic':
      return {basic: {}}
    case 'multi_header': {
      const entries = pairs(flags['auth-header'], '--auth-header')
      if (entries.length === 0) throw usageError('--auth multi-header needs at least one --auth-header NAME=TEMPLATE')
      return {multi_header: entries.map(([header_name, value_template]) => ({header_name, value_template}))}
    }
    case 'multi_query': {
      const entries = pairs(flags['auth-query'], '--auth-query')
      if (entries.length === 0) throw usageError('--auth multi-query needs at least one --auth-query NAME=TEMPLATE')
      return {multi_query: entries.map(([param_name, value_template]) => ({param_name, value_template}))}
    }
    case 'o_auth2':
      return {o_auth2: oauthSpec(flags, hosts)}
    case 'aws_sig_v4':
      if (!flags['aws-service'] || !flags['aws-region']) throw usageError('--auth aws-sigv4 needs --aws-service and --aws-region')
      return {aws_sig_v4: {service: flags['aws-service'], region: flags['aws-region']}}
    case 'hmac':
      return {
        hmac: {
          algorithm: (flags['hmac-algorithm'] ?? 'sha256') as 'sha256' | 'sha512',
          header_name: flags['header-name'] ?? 'x-aivault-signature',
          value_template: flags['value-template'] ?? '{{signature}}',
          input: (flags['hmac-input'] ?? 'canonical') as 'canonical' | 'body',
        },
      }
    default:
      return {mtls: {}}
  }
}

function oauthSpec(flags: AuthFlagValues, hosts: string[]): {grant_type: 'refresh_token' | 'client_credentials'; token_endpoint: string; scopes?: string[]} {
  if (!flags['grant-type'] || !flags['token-endpoint']) throw usageError('--auth oauth2 needs --grant-type and --token-endpoint')
  let url: URL
  try {
    url = new URL(flags['token-endpoint'])
  } catch {
    throw usageError('--token-endpoint is not a URL')
  }
  if (url.protocol !== 'https:') throw usageError('--token-endpoint must be https')
  if (!hosts.includes(url.host.toLowerCase())) throw usageError(`--token-endpoint host ${url.host} must be one of the credential's --host values`)
  const spec = {grant_type: flags['grant-type'] as 'refresh_token' | 'client_credentials', token_endpoint: url.toString()}
  return flags.scope ? {...spec, scopes: flags.scope} : spec
}

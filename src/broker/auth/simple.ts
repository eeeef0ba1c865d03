/**
 * The auth strategies that place secret material into the request as it is: header, query,
 * path prefix, HTTP basic, several headers, several query parameters, and mTLS.
 */
import {AivaultError} from '../../errors'
import type {BasicAuth, HeaderAuth, MultiHeaderAuth, MultiQueryAuth, PathAuth, QueryAuth} from '../../registry/types'
import {parseJsonObject, renderTemplate, templateValues, usedValues} from './templates'
import type {AuthInjection, AuthMaterial} from './types'

export function headerAuth(config: HeaderAuth['header'], material: AuthMaterial): AuthInjection {
  const values = templateValues(material)
  return {headers: [[config.header_name.toLowerCase(), renderTemplate(config.value_template, values)]], query: [], redact: usedValues(config.value_template, values)}
}

export function queryAuth(config: QueryAuth['query'], material: AuthMaterial): AuthInjection {
  const values = templateValues(material)
  const template = config.value_template ?? '{{secret}}'
  return {headers: [], query: [[config.param_name, renderTemplate(template, values)]], redact: usedValues(template, values)}
}

export function pathAuth(config: PathAuth['path'], material: AuthMaterial): AuthInjection {
  const values = templateValues(material)
  const prefix = renderTemplate(config.prefix_template, values)
  if (!prefix.startsWith('/') || /[/?#\\]|\.\./.test(prefix.slice(1))) {
    throw new AivaultError('auth_failed', 'the path auth prefix would not stay a single path segment')
  }
  return {headers: [], query: [], pathPrefix: prefix, redact: usedValues(config.prefix_template, values)}
}

/**
 * Basic auth: the username and password come from the registry's fixed values or placeholders
 * (`username`, `password`), else from a JSON secret `{username, password}` or `user:pass` text.
 */
export function basicAuth(config: BasicAuth['basic'], material: AuthMaterial): AuthInjection {
  const values = templateValues(material)
  let username = config.username !== undefined ? renderTemplate(config.username, values) : values.username
  let password = config.password !== undefined ? renderTemplate(config.password, values) : values.password
  if (username === undefined || password === undefined) {
    const secret = material.values.secret
    const json = secret === undefined ? undefined : parseJsonObject(secret)
    if (json && typeof json.username === 'string' && typeof json.password === 'string') {
      username ??= json.username
      password ??= json.password
    } else if (secret !== undefined && secret.includes(':')) {
      const at = secret.indexOf(':')
      username ??= secret.slice(0, at)
      password ??= secret.slice(at + 1)
    } else if (secret !== undefined && username !== undefined) {
      password ??= secret
    }
  }
  if (username === undefined || password === undefined) {
    throw new AivaultError('auth_failed', 'basic auth needs a username and a password: store {"username","password"} JSON or "user:pass"')
  }
  const token = Buffer.from(`${username}:${password}`, 'utf8').toString('base64')
  // A user name from the secret material is redacted too (for some APIs it is the key itself);
  // one written in the registry (Mailgun's `api`) is not secret.
  const secretUser = config.username === undefined ? [username] : usedValues(config.username, values)
  return {headers: [['authorization', `Basic ${token}`]], query: [], redact: [password, token, `${username}:${password}`, ...secretUser]}
}

export function multiHeaderAuth(config: MultiHeaderAuth['multi_header'], material: AuthMaterial): AuthInjection {
  const values = templateValues(material)
  return {
    headers: config.map((e) => [e.header_name.toLowerCase(), renderTemplate(e.value_template, values)] as [string, string]),
    query: [],
    redact: config.flatMap((e) => usedValues(e.value_template, values)),
  }
}

export function multiQueryAuth(config: MultiQueryAuth['multi_query'], material: AuthMaterial): AuthInjection {
  const values = templateValues(material)
  return {
    headers: [],
    query: config.map((e) => [e.param_name, renderTemplate(e.value_template, values)] as [string, string]),
    redact: config.flatMap((e) => usedValues(e.value_template, values)),
  }
}

/** mTLS: the client certificate and key from a JSON secret `{certPem, keyPem}`. */
export function mtlsAuth(material: AuthMaterial): AuthInjection {
  const json = parseJsonObject(material.values.secret ?? '')
  if (!json || typeof json.certPem !== 'string' || typeof json.keyPem !== 'string') {
    throw new AivaultError('auth_failed', 'an mtls secret must be JSON {"certPem", "keyPem"}')
  }
  return {headers: [], query: [], tls: {cert: json.certPem, key: json.keyPem}, redact: [json.keyPem]}
}

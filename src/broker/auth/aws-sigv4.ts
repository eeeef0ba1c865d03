/**
 * AWS Signature Version 4 (SPEC §8, §15 "Signing"): the `aws_sig_v4` auth strategy.
 *
 * Signs the request the broker is about to send, following AWS's documented canonical request:
 *
 *   METHOD \n canonical URI \n canonical query \n canonical headers \n\n signed headers \n payload hash
 *
 * then `AWS4-HMAC-SHA256 \n amz-date \n scope \n hex(sha256(canonical request))`, keyed with the
 * key derived from the secret access key through date, region, service and `aws4_request`.
 *
 * `request.path` is the path as it goes on the wire (already percent-encoded by the broker). AWS
 * services other than S3 URI-encode that wire path once more ("double encoding", so `%` becomes
 * `%25`); S3 encodes the path exactly once, so its segments are decoded and re-encoded.
 *
 * node:crypto is used directly: this is a protocol-mandated signature, not vault sealing.
 */
import {createHash, createHmac} from 'node:crypto'

import {AivaultError} from '../../errors'
import type {AuthInjection, AuthMaterial, OutgoingRequest} from './types'
import {encodeRfc3986} from '../request/path'

export interface AwsSigV4Config {
  service: string
  region: string
}

interface AwsCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

const ALGORITHM = 'AWS4-HMAC-SHA256'
const MALFORMED_SECRET = 'the aws_sig_v4 secret must be JSON {accessKeyId, secretAccessKey, sessionToken?}'

/**
 * Sign `request` with SigV4. Returns `authorization`, `x-amz-date`, `x-amz-security-token` (with
 * a session token) and, for S3, `x-amz-content-sha256`; every returned header except
 * `authorization` is itself signed. `redact` holds the secret access key, the session token and
 * the signature.
 */
export function signAwsSigV4(config: AwsSigV4Config, material: AuthMaterial, request: OutgoingRequest, now: Date): AuthInjection {
  const service = typeof config?.service === 'string' ? config.service.trim() : ''
  const region = typeof config?.region === 'string' ? config.region.trim() : ''
  if (service === '' || region === '') throw new AivaultError('auth_failed', 'the aws_sig_v4 auth needs a service and a region')
  if (Number.isNaN(now.getTime())) throw new AivaultError('auth_failed', 'cannot sign an aws_sig_v4 request without a valid clock')

  const credentials = readCredentials(material)
  const amzDate = formatAmzDate(now)
  const dateStamp = amzDate.slice(0, 8)
  const scope = `${dateStamp}/${region}/${service}/aws4_request`
  const payloadHash = sha256Hex(request.body)
  const s3 = isS3(service)

  const added: Array<[string, string]> = [['x-amz-date', amzDate]]
  if (s3) added.push(['x-amz-content-sha256', payloadHash])
  if (credentials.sessionToken !== undefined) added.push(['x-amz-security-token', credentials.sessionToken])

  const {canonicalRequest, signedHeaders} = canonicalRequestFor(service, request, added, payloadHash)
  const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join('\n')
  const signingKey = deriveSigningKey(credentials.secretAccessKey, dateStamp, region, service)
  const signature = createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex')

  const authorization = `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`
  const redact = [credentials.secretAccessKey, signature]
  if (credentials.sessionToken !== undefined) redact.push(credentials.sessionToken)
  return {headers: [['authorization', authorization], ...added], query: [], redact}
}

/**
 * The canonical request and signed-header list for `request` plus the headers the signer adds.
 * Exported for tests that compare against AWS's published canonical requests.
 */
export function canonicalRequestFor(
  service: string,
  request: OutgoingRequest,
  added: Array<[string, string]>,
  payloadHash: string = sha256Hex(request.body),
): {canonicalRequest: string; signedHeaders: string} {
  // A request header the signer sets itself is replaced, never signed twice.
  const addedNames = new Set(added.map(([name]) => name.toLowerCase()))
  const all: Array<[string, string]> = [['host', hostHeader(request)]]
  for (const [name, value] of request.headers) {
    const lower = name.toLowerCase()
    if (lower === 'host' || addedNames.has(lower) || lower === 'authorization') continue
    all.push([lower, value])
  }
  for (const [name, value] of added) all.push([name.toLowerCase(), value])

  // Group values by lower-case name, keeping request order; names sort by code unit (ASCII).
  const grouped = new Map<string, string[]>()
  for (const [name, value] of all) {
    const values = grouped.get(name)
    if (values) values.push(canonicalHeaderValue(value))
    else grouped.set(name, [canonicalHeaderValue(value)])
  }
  const names = [...grouped.keys()].sort(compareCodeUnits)
  const canonicalHeaders = names.map((name) => `${name}:${(grouped.get(name) ?? []).join(',')}\n`).join('')
  const signedHeaders = names.join(';')

  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalUri(service, request.path),
    canonicalQuery(request.query),
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join('\n')
  return {canonicalRequest, signedHeaders}
}

function readCredentials(material: AuthMaterial): AwsCredentials {
  const values = material?.values ?? {}
  // Registry providers may map AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY to placeholders.
  const accessKeyId = values.access_key_id ?? values.accessKeyId
  const sessionToken = values.session_token ?? values.sessionToken
  let secretAccessKey = values.secret_access_key ?? values.secretAccessKey
  if (typeof values.secret === 'string') {
    // The custom-credential shape: one JSON secret. A plain `secret` next to an
    // `access_key_id` placeholder is the secret access key itself.
    if (values.secret.trim().startsWith('{') || accessKeyId === undefined) return parseSecretJson(values.secret)
    secretAccessKey ??= values.secret
  }
  return checkCredentials(accessKeyId, secretAccessKey, sessionToken)
}

function parseSecretJson(text: string): AwsCredentials {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    // Never pass the parser's message on: it can quote the secret.
    throw new AivaultError('auth_failed', MALFORMED_SECRET)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new AivaultError('auth_failed', MALFORMED_SECRET)
  const record = parsed as Record<string, unknown>
  return checkCredentials(
    record.accessKeyId ?? record.access_key_id,
    record.secretAccessKey ?? record.secret_access_key,
    record.sessionToken ?? record.session_token,
  )
}

function checkCredentials(accessKeyId: unknown, secretAccessKey: unknown, sessionToken: unknown): AwsCredentials {
  if (typeof accessKeyId !== 'string' || typeof secretAccessKey !== 'string') throw new AivaultError('auth_failed', MALFORMED_SECRET)
  const id = accessKeyId.trim()
  // The access key id goes into the Authorization header: no separators or control characters.
  if (id === '' || secretAccessKey === '' || !/^[\x21-\x7e]+$/.test(id) || /[/,=]/.test(id)) {
    throw new AivaultError('auth_failed', MALFORMED_SECRET)
  }
  if (sessionToken === undefined || sessionToken === null || sessionToken === '') return {accessKeyId: id, secretAccessKey}
  if (typeof sessionToken !== 'string' || !/^[\x20-\x7e]+$/.test(sessionToken)) throw new AivaultError('auth_failed', MALFORMED_SECRET)
  return {accessKeyId: id, secretAccessKey, sessionToken: sessionToken.trim()}
}

/** S3 and its variants encode the path once; every other service encodes it twice. */
function isS3(service: string): boolean {
  return service === 's3' || service === 's3express' || service.startsWith('s3-')
}

function hostHeader(request: OutgoingRequest): string {
  const host = request.host.toLowerCase()
  return request.port === 443 ? host : `${host}:${request.port}`
}

function canonicalUri(service: string, path: string): string {
  if (path === '' || path === '/') return '/'
  const absolute = path.startsWith('/') ? path : `/${path}`
  const segments = absolute.split('/')
  const encoded = isS3(service)
    ? segments.map((segment) => encodeRfc3986(decodeLeniently(segment)))
    : segments.map((segment) => encodeRfc3986(segment))
  return encoded.join('/')
}

function canonicalQuery(query: Array<[string, string]>): string {
  return query
    .map(([key, value]): [string, string] => [encodeRfc3986(key), encodeRfc3986(value)])
    .sort((a, b) => compareCodeUnits(a[0], b[0]) || compareCodeUnits(a[1], b[1]))
    .map(([key, value]) => `${key}=${value}`)
    .join('&')
}

/** Trim, and collapse each run of whitespace (including folded line breaks) to one space. */
function canonicalHeaderValue(value: string): string {
  return value.replace(/\s+/g, ' ').trim()
}


function decodeLeniently(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}

/** `YYYYMMDDTHHMMSSZ` in UTC. */
function formatAmzDate(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '')
}

function deriveSigningKey(secretAccessKey: string, dateStamp: string, region: string, service: string): Buffer {
  const dateKey = createHmac('sha256', `AWS4${secretAccessKey}`).update(dateStamp, 'utf8').digest()
  const regionKey = createHmac('sha256', dateKey).update(region, 'utf8').digest()
  const serviceKey = createHmac('sha256', regionKey).update(service, 'utf8').digest()
  return createHmac('sha256', serviceKey).update('aws4_request', 'utf8').digest()
}

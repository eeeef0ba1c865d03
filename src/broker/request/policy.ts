import * as path from 'node:path'
import type {Readable} from 'node:stream'
import {Transform} from 'node:stream'

import {AivaultError} from '../../errors'
import type {CapabilityPolicy} from '../../vault/store/broker-records'
import {RateState} from '../../vault/store/rate-state'
import type {Vault} from '../../vault/vault'

/** Policies apply to registry capabilities too; a capability without one has no limits. */
export function loadPolicy(vault: Vault, capability: string): CapabilityPolicy {
  const stored = vault.exists() ? vault.policies.find(capability) : undefined
  return stored ?? {id: capability, rateLimitPerMinute: null, maxRequestBodyBytes: null, maxResponseBodyBytes: null, responseBlock: []}
}

/** The request body against the policy's size limit. */
export function checkRequestSize(policy: CapabilityPolicy, capability: string, bodyBytes: number): void {
  if (policy.maxRequestBodyBytes !== null && bodyBytes > policy.maxRequestBodyBytes) {
    throw new AivaultError('body_too_large', `the request body is ${bodyBytes} bytes; ${capability} allows ${policy.maxRequestBodyBytes}`)
  }
}

/** Take one call from the cross-process rate limit (a sliding 60-second window); only for a policy with one. */
export async function takeRateLimit(vault: Vault, limitPerMinute: number, capability: string): Promise<void> {
  const rate = new RateState(path.join(vault.paths.runDir, 'ratelimit'))
  if (!(await rate.take(capability, limitPerMinute))) {
    throw new AivaultError('rate_limited', `${capability} allows ${limitPerMinute} calls per minute`, {hint: 'wait and retry'})
  }
}

/** Read a whole stream, refusing it with `tooLarge()` once it passes `maxBytes` (null: no limit). */
export async function readWhole(stream: Readable, maxBytes: number | null, tooLarge: () => AivaultError): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stream) {
    size += (chunk as Buffer).length
    if (maxBytes !== null && size > maxBytes) {
      stream.destroy()
      throw tooLarge()
    }
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

/** Pass a stream on as it flows, ending it with `tooLarge()` once it passes `maxBytes`. */
export function limitBytes(source: Readable, maxBytes: number, tooLarge: () => AivaultError): Readable {
  let size = 0
  const limited = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length
      if (size > maxBytes) done(tooLarge())
      else done(null, chunk)
    },
  })
  source.once('error', (error) => limited.destroy(error))
  // The consumer may attach later (after the route, address and key are ready): an error before
  // then (the caller gone, the limit passed) must not go unheard and end the process. The
  // consumer still sees it: reading a destroyed stream fails.
  limited.on('error', () => {})
  return source.pipe(limited)
}

/** Read a whole response body within the size limit. */
export function readResponseBody(response: Readable, maxBytes: number | null): Promise<Buffer> {
  return readWhole(response, maxBytes, () => new AivaultError('body_too_large', `the response exceeds ${maxBytes} bytes`))
}

/** A streamed request body against the policy's size limit: read whole, or passed on as it flows. */
export function requestTooLarge(policy: CapabilityPolicy, capability: string): () => AivaultError {
  return () => new AivaultError('body_too_large', `the request body exceeds ${policy.maxRequestBodyBytes} bytes, the most ${capability} allows`)
}

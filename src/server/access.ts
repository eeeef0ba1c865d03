import type {Envelope} from '../broker/request/envelope'
import {AivaultError} from '../errors'
import type {ProxyToken} from './proxy-tokens'

/** A refusal of access itself (a remote client, a token's scope), audited as access.denied. */
export class AccessRefusal extends AivaultError {
  constructor(
    message: string,
    readonly capability?: string,
    hint?: string,
  ) {
    super('policy_violation', message, {hint})
  }
}

/** What a proxy token allows an envelope: its capabilities, and its one credential when it names one. */
export function authorize(token: ProxyToken, envelope: Envelope): void {
  if (!token.capabilities.includes(envelope.capability)) {
    throw new AccessRefusal(`this token does not cover ${envelope.capability}`, envelope.capability)
  }
  if (token.credential) {
    if (envelope.credential && envelope.credential !== token.credential) throw new AccessRefusal(`this token is for credential ${token.credential}`, envelope.capability)
    envelope.credential = token.credential
  }
}

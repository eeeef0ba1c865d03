/**
 * Bounds of the numbers the command line takes (README "Limits"). A value outside them is a
 * usage error (exit 2) naming the flag and the range. Kept apart from the flag tables so the
 * thin invoke client (no oclif) applies the same bounds.
 */
const DAY_MS = 86_400_000

/** `--timeout-ms`: the broker caps an envelope's timeout at 10 minutes (SPEC §7). */
export {MAX_TIMEOUT_MS} from '../broker/request/envelope'
/** `unlock --ttl` and `token mint --ttl`. */
export const MAX_UNLOCK_TTL_MS = 30 * DAY_MS
export const MAX_TOKEN_TTL_MS = 30 * DAY_MS
/** `capability policy set`: calls per minute, and request or response bytes (1 TiB). */
export const MAX_RATE_LIMIT_PER_MINUTE = 1_000_000
export const MAX_BODY_LIMIT_BYTES = 2 ** 40
/** `audit --limit`. */
export const MAX_AUDIT_LIMIT = 1_000_000
/** `audit --before-ts-ms`: the last millisecond a JavaScript date can hold. */
export const MAX_EPOCH_MS = 8_640_000_000_000_000

import {usageError} from '../errors'

/** `30s`, `15m`, `8h`, `2d` -> milliseconds (SPEC §15). */
export function parseDuration(text: string, flag = '--ttl'): number {
  const match = /^(\d+)([smhd])$/.exec(text.trim())
  if (!match || Number(match[1]) === 0) throw usageError(`${flag} ${JSON.stringify(text)} is not a duration`, 'use a number and s, m, h or d: 30s, 15m, 8h')
  return Number(match[1]) * {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}[match[2] as 's' | 'm' | 'h' | 'd']
}

import {usageError} from '../errors'

const UNIT_MS = {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}

/** Milliseconds as the largest whole unit: 2592000000 -> `30d`. */
export function formatDuration(ms: number): string {
  const unit = (['d', 'h', 'm', 's'] as const).find((u) => ms % UNIT_MS[u] === 0) ?? 's'
  return `${Math.floor(ms / UNIT_MS[unit])}${unit}`
}

/**
 * `30s`, `15m`, `8h`, `2d` -> milliseconds (SPEC §15), at most `maxMs`. A malformed, zero or
 * too long duration is a usage error (exit 2).
 */
export function parseDuration(text: string, maxMs: number, flag = '--ttl'): number {
  const match = /^(\d+)([smhd])$/.exec(text.trim())
  const shown = JSON.stringify(text.length <= 40 ? text : `${text.slice(0, 40)}...`)
  const hint = `use a number and s, m, h or d, from 1s to ${formatDuration(maxMs)}: 30s, 15m, 8h`
  if (!match || Number(match[1]) === 0) throw usageError(`${flag} ${shown} is not a duration`, hint)
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]
  if (ms > maxMs) throw usageError(`${flag} ${shown} is longer than the maximum, ${formatDuration(maxMs)}`, hint)
  return ms
}

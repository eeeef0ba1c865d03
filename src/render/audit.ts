import type {AuditEvent} from '../vault/audit/audit'

const SKIP = new Set(['ts', 'kind', 'prev'])

/** One line per event: time, kind, then its fields as key=value. */
export function renderAudit(events: AuditEvent[]): string {
  if (events.length === 0) return 'No audit events.'
  return events
    .map((event) => {
      const fields = Object.entries(event)
        .filter(([key]) => !SKIP.has(key))
        .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
      return [event.ts, event.kind, ...fields].join('  ')
    })
    .join('\n')
}

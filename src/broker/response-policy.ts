import {REDACTED} from './scrub'

/**
 * `--response-block FIELD` (SPEC §6): a JSON body has every field of that name redacted at
 * any depth; any body also has plain-text occurrences of the literal replaced.
 */
export function applyResponseBlock(body: Buffer, fields: string[], contentType: string | undefined): Buffer {
  if (fields.length === 0) return body
  const text = body.toString('utf8')
  const blocked = new Set(fields)
  if (/json/i.test(contentType ?? '') || /^\s*[[{]/.test(text)) {
    try {
      const redact = (value: unknown): unknown => {
        if (Array.isArray(value)) return value.map(redact)
        if (value && typeof value === 'object') {
          return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, blocked.has(k) ? REDACTED : redact(v)]))
        }
        return value
      }
      return Buffer.from(JSON.stringify(redact(JSON.parse(text))))
    } catch {
      /* not JSON after all: plain-text rules below */
    }
  }
  let out = text
  for (const field of fields) if (field.length > 0) out = out.split(field).join(REDACTED)
  return Buffer.from(out, 'utf8')
}

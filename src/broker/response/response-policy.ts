import {REDACTED} from './scrub'

/**
 * `--response-block FIELD` (SPEC §6, §7 step 12): every field of that name is redacted at any
 * depth of a JSON body, of each line of an NDJSON body and of each SSE event's `data:` JSON (a
 * caller picks those formats by asking for `stream: true`). Text that is not JSON has
 * plain-text occurrences of the literal replaced.
 */
export function applyResponseBlock(body: Buffer, fields: string[], contentType: string | undefined): Buffer {
  if (fields.length === 0) return body
  const text = body.toString('utf8')
  const block = new Blocklist(fields)
  if (/json/i.test(contentType ?? '') || /^\s*[[{]/.test(text)) {
    const whole = block.json(text)
    if (whole !== undefined) return Buffer.from(whole)
  }
  return Buffer.from(block.lines(text), 'utf8')
}

class Blocklist {
  private readonly names: Set<string>

  constructor(private readonly fields: string[]) {
    this.names = new Set(fields)
  }

  /** A JSON text with the blocked fields redacted, or undefined when it is not JSON. */
  json(text: string): string | undefined {
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      return undefined
    }
    return JSON.stringify(this.redact(value))
  }

  /**
   * Line by line: a JSON line (NDJSON) and an SSE event's `data:` lines holding JSON are
   * redacted as JSON; anything else gets the plain-text rule. Line breaks are kept.
   */
  lines(text: string): string {
    const parts = text.split(/(\r\n|\r|\n)/) // lines at even indexes, their breaks at odd ones
    const out: string[] = []
    for (let i = 0; i < parts.length; i += 2) {
      if (parts[i].startsWith('data:')) {
        // An SSE event's data may span several `data:` lines, joined with "\n".
        let end = i
        while (end + 2 < parts.length && parts[end + 2].startsWith('data:')) end += 2
        out.push(this.sseData(parts.slice(i, end + 1)))
        i = end
      } else {
        out.push(this.line(parts[i]))
      }
      if (i + 1 < parts.length) out.push(parts[i + 1])
    }
    return out.join('')
  }

  /** `data:` lines and the breaks between them: one redacted `data:` line when together they hold JSON, else line by line. */
  private sseData(group: string[]): string {
    const payload = (line: string) => line.slice(line.startsWith('data: ') ? 6 : 5)
    const joined = this.jsonLike(group.filter((_, k) => k % 2 === 0).map(payload).join('\n'))
    if (joined !== undefined) return `data: ${joined}`
    return group
      .map((part, k) => {
        if (k % 2 === 1) return part
        const json = this.jsonLike(payload(part))
        return json === undefined ? this.plain(part) : `data: ${json}`
      })
      .join('')
  }

  private line(line: string): string {
    return this.jsonLike(line) ?? this.plain(line)
  }

  /** `text` redacted as JSON when it is JSON, else undefined. */
  private jsonLike(text: string): string | undefined {
    return /^\s*[[{]/.test(text) ? this.json(text) : undefined
  }

  private plain(text: string): string {
    let out = text
    for (const field of this.fields) if (field.length > 0) out = out.split(field).join(REDACTED)
    return out
  }

  private redact(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.redact(v))
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.names.has(k) ? REDACTED : this.redact(v)]))
    }
    return value
  }
}

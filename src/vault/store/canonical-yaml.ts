/**
 * The canonical YAML that aivault writes: a small, fixed subset (block maps and lists, plain
 * or JSON-quoted strings, integers, booleans, null) emitted deterministically. Records are
 * read back through `parseCanonical`, a line parser for exactly this subset, and accepted
 * only when re-emitting the result reproduces the text byte for byte; anything else (a hand
 * edit, another tool's formatting) goes to the full `yaml` parser. Tests check that the
 * `yaml` package parses every emitted document to the same value, so the fast path can
 * never disagree with it.
 */

export class NotCanonical extends Error {}

/**
 * Keys no record has, and that would reach into a plain object's prototype (`__proto__`) or
 * shadow its machinery. The parser refuses them; the codec reports them as malformed YAML.
 */
export const UNSAFE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

const PLAIN = /^[A-Za-z_][A-Za-z0-9_.-]*$/
const PLAIN_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const PLAIN_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/
const RESERVED = /^(true|false|null|yes|no|on|off|y|n|nan|inf)$/i
/** Characters YAML does not print as they are; such strings are left to the `yaml` package. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u{0}-\u{8}\u{b}\u{c}\u{e}-\u{1f}\u{7f}-\u{9f}\u{d800}-\u{dfff}\u{feff}\u{fffe}\u{ffff}]/u

function scalar(value: unknown): string {
  if (value === null) return 'null'
  if (value === true || value === false) return String(value)
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new NotCanonical('only safe integers')
    return String(value)
  }
  if (typeof value !== 'string') throw new NotCanonical(`unsupported ${typeof value}`)
  if ((PLAIN.test(value) && !RESERVED.test(value)) || PLAIN_UUID.test(value) || PLAIN_TIMESTAMP.test(value)) return value
  if (UNPRINTABLE.test(value)) throw new NotCanonical('unprintable characters')
  return JSON.stringify(value)
}

function key(k: string): string {
  if (PLAIN.test(k) && !RESERVED.test(k)) return k
  if (UNPRINTABLE.test(k)) throw new NotCanonical('unprintable characters')
  return JSON.stringify(k)
}
const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

function emitMap(map: Record<string, unknown>, indent: string, out: string[]): void {
  for (const [k, v] of Object.entries(map)) {
    if (v === undefined) throw new NotCanonical('undefined value')
    if (isMap(v) && Object.keys(v).length > 0) {
      out.push(`${indent}${key(k)}:`)
      emitMap(v, indent + '  ', out)
    } else if (Array.isArray(v) && v.length > 0) {
      out.push(`${indent}${key(k)}:`)
      emitList(v, indent, out)
    } else {
      out.push(`${indent}${key(k)}: ${isMap(v) ? '{}' : Array.isArray(v) ? '[]' : scalar(v)}`)
    }
  }
}

function emitList(list: unknown[], indent: string, out: string[]): void {
  for (const item of list) {
    if (isMap(item) && Object.keys(item).length > 0) {
      const lines: string[] = []
      emitMap(item, indent + '  ', lines)
      out.push(`${indent}- ${lines[0].slice(indent.length + 2)}`, ...lines.slice(1))
    } else if (Array.isArray(item) || isMap(item)) {
      throw new NotCanonical('nested lists and empty maps in lists')
    } else {
      out.push(`${indent}- ${scalar(item)}`)
    }
  }
}

/** Emit a top-level map; throws NotCanonical for values outside the subset. */
export function emitCanonical(value: Record<string, unknown>): string {
  if (Object.keys(value).length === 0) return '{}\n'
  const out: string[] = []
  emitMap(value, '', out)
  return out.join('\n') + '\n'
}

interface Line {
  indent: number
  text: string
}

function parseScalar(text: string): unknown {
  if (text === 'null') return null
  if (text === 'true') return true
  if (text === 'false') return false
  if (text === '[]') return []
  if (text === '{}') return {}
  if (/^-?(0|[1-9]\d*)$/.test(text)) return Number(text)
  if (text.startsWith('"')) return JSON.parse(text)
  return text
}

/** Index of the quote closing the JSON string that starts at 0, or -1. */
function closingQuote(text: string): number {
  for (let i = 1; i < text.length; i++) {
    if (text[i] === '\\') i++
    else if (text[i] === '"') return i
  }
  return -1
}

function splitKey(text: string): [string, string] | undefined {
  if (text.startsWith('"')) {
    const end = closingQuote(text)
    if (end === -1 || text[end + 1] !== ':') return undefined
    return [JSON.parse(text.slice(0, end + 1)), text.slice(end + 2)]
  }
  const at = text.indexOf(':')
  if (at <= 0) return undefined
  return [text.slice(0, at), text.slice(at + 1)]
}

/** Parse the canonical subset; undefined when the text is not in it. Never throws. */
export function parseCanonical(text: string): Record<string, unknown> | undefined {
  if (!text.endsWith('\n')) return undefined
  if (text === '{}\n') return {}
  const lines: Line[] = text
    .slice(0, -1)
    .split('\n')
    .map((l) => ({indent: l.length - l.trimStart().length, text: l.trimStart()}))
  let pos = 0
  const fail = (): never => {
    throw new NotCanonical('not canonical')
  }

  function parseMap(indent: number, first?: string): Record<string, unknown> {
    const map: Record<string, unknown> = {}
    let entry = first
    for (;;) {
      if (entry === undefined) {
        if (pos >= lines.length || lines[pos].indent !== indent || lines[pos].text.startsWith('- ')) break
        entry = lines[pos++].text
      }
      const kv = splitKey(entry) ?? fail()
      const [k, rest] = kv
      if (UNSAFE_KEYS.has(k)) fail()
      if (rest === '') {
        const next = lines[pos] ?? fail()
        if (next.indent === indent && next.text.startsWith('- ')) map[k] = parseList(indent)
        else if (next.indent === indent + 2) map[k] = parseMap(indent + 2)
        else fail()
      } else if (rest.startsWith(' ')) {
        map[k] = parseScalar(rest.slice(1))
      } else {
        fail()
      }
      entry = undefined
    }
    return map
  }

  function parseList(indent: number): unknown[] {
    const list: unknown[] = []
    while (pos < lines.length && lines[pos].indent === indent && lines[pos].text.startsWith('- ')) {
      const item = lines[pos++].text.slice(2)
      const kv = splitKey(item)
      if (kv && (kv[1] === '' || kv[1].startsWith(' '))) list.push(parseMap(indent + 2, item))
      else list.push(parseScalar(item))
    }
    return list
  }

  try {
    const value = parseMap(0)
    return pos === lines.length ? value : undefined
  } catch {
    return undefined
  }
}

/**
 * JSON -> markdown for `aivault markdown` (SPEC §15): each key of an object, sorted, becomes
 * `# Title` and its value; nested objects and arrays of objects are fenced in
 * `<begin key>`/`</end key>`; arrays of scalars become `  - item` lines.
 */
export interface MarkdownOptions {
  namespace?: string
  excludeFields?: string[]
  wrapFields?: string[]
}

export function titleOf(key: string): string {
  return key
    .split(/[_-]/)
    .filter((w) => w !== '')
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join(' ')
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined) return true
  if (typeof value === 'string') return value.trim() === ''
  if (Array.isArray(value)) return value.length === 0
  if (isObject(value)) return Object.keys(value).length === 0
  return false
}

function scalar(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'string') return value.trim() === '' ? 'None' : value
  return String(value)
}

function renderObject(object: Record<string, unknown>, options: MarkdownOptions): string {
  const excluded = new Set(options.excludeFields ?? [])
  const blocks = Object.keys(object)
    .sort()
    .filter((key) => !excluded.has(key))
    .map((key) => `# ${titleOf(key)}\n\n${renderField(key, object[key], options)}\n`)
  return blocks.join('\n').trimEnd()
}

function renderField(key: string, value: unknown, options: MarkdownOptions): string {
  if (isEmpty(value)) return 'None'
  if (isObject(value) || (Array.isArray(value) && value.some(isObject))) return `<begin ${key}>\n${renderValue(value, options)}\n</end ${key}>`
  if (typeof value === 'string' && (options.wrapFields ?? []).includes(key)) return `<begin ${key}>\n${value}\n</end ${key}>`
  return renderValue(value, options)
}

function renderValue(value: unknown, options: MarkdownOptions): string {
  if (isObject(value)) return renderObject(value, options)
  if (Array.isArray(value)) {
    if (value.some(isObject)) return value.map((item) => (isObject(item) ? renderObject(item, options) : scalar(item))).join('\n\n')
    return value.map((item) => `  - ${scalar(item)}`).join('\n')
  }
  return scalar(value)
}

export function renderMarkdown(value: unknown, options: MarkdownOptions = {}): string {
  const body = renderValue(value, options).trimEnd()
  return options.namespace ? `<begin ${options.namespace}>\n${body}\n</end ${options.namespace}>\n` : body
}

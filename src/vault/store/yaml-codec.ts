/**
 * Deterministic YAML for records. Writes use the canonical emitter (fixed key order as built,
 * no folding, trailing newline); reads take the canonical fast path when the text is exactly
 * canonical and fall back to the `yaml` package, loaded lazily, for anything else.
 */
import {emitCanonical, NotCanonical, parseCanonical, UNSAFE_KEYS} from './canonical-yaml'

type YamlModule = typeof import('yaml')

let yamlModule: YamlModule | undefined
const yaml = (): YamlModule => (yamlModule ??= require('yaml') as YamlModule)

export function toYaml(value: Record<string, unknown>): string {
  try {
    return emitCanonical(value)
  } catch (error) {
    if (!(error instanceof NotCanonical)) throw error
    return yaml().stringify(value, {lineWidth: 0, minContentWidth: 0, indent: 2, aliasDuplicateObjects: false})
  }
}

/** Parse one YAML document; throws with the parser's message (line and column) on bad input. */
export function fromYaml(text: string): unknown {
  const fast = parseCanonical(text)
  if (fast !== undefined) {
    try {
      if (emitCanonical(fast) === text) return fast
    } catch {
      /* not canonical after all: the full parser decides */
    }
  }
  const doc = yaml().parseDocument(text, {prettyErrors: false, uniqueKeys: true})
  if (doc.errors.length > 0) throw new Error(doc.errors[0].message.split('\n')[0])
  const value: unknown = doc.toJS()
  refuseUnsafeKeys(value)
  return value
}

/** Records never use `__proto__`, `constructor` or `prototype` as keys; a document that does is refused. */
function refuseUnsafeKeys(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) refuseUnsafeKeys(item)
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (UNSAFE_KEYS.has(key)) throw new Error(`the key ${JSON.stringify(key)} is not allowed`)
      refuseUnsafeKeys(item)
    }
  }
}

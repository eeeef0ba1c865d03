/**
 * Deterministic YAML for records: keys in the order the caller built them, no line folding,
 * trailing newline. The `yaml` package is loaded lazily (it costs start-up time).
 */
type YamlModule = typeof import('yaml')

let yamlModule: YamlModule | undefined
const yaml = (): YamlModule => (yamlModule ??= require('yaml') as YamlModule)

export function toYaml(value: unknown): string {
  return yaml().stringify(value, {lineWidth: 0, minContentWidth: 0, indent: 2, aliasDuplicateObjects: false})
}

/** Parse one YAML document; throws with the parser's message (line and column) on bad input. */
export function fromYaml(text: string): unknown {
  const doc = yaml().parseDocument(text, {prettyErrors: false, uniqueKeys: true})
  if (doc.errors.length > 0) throw new Error(doc.errors[0].message.split('\n')[0])
  return doc.toJS()
}

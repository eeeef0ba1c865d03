import {AivaultError} from '../errors'

/**
 * Parse dotenv text: `KEY=VALUE` lines, `#` comments, an optional `export ` prefix, values in
 * single quotes (literal) or double quotes (with \n, \t, \" and \\ escapes); a quoted value may
 * span lines (a PEM key), its line breaks kept; an unquoted value ends at ` #`. Errors name the
 * line, never its content (it may hold a secret).
 */
export function parseDotenv(text: string, source: string): {name: string; value: string}[] {
  const entries: {name: string; value: string}[] = []
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trimStart()
    if (line.trim() === '' || line.startsWith('#')) continue
    const match = /^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/.exec(line)
    if (!match) throw new AivaultError('invalid_request', `${source} line ${i + 1} is not KEY=VALUE`, {hint: 'fix or comment out that line'})
    const [, name] = match
    let rest = match[2]
    const first = i + 1
    const quote = rest[0]
    // An open quote continues on the next lines until it closes.
    if (quote === "'" || quote === '"') while (findClosingQuote(rest, quote) === -1 && i + 1 < lines.length) rest += `\n${lines[++i]}`
    entries.push({name, value: parseValue(rest, source, first)})
  }
  return entries
}

function parseValue(rest: string, source: string, line: number): string {
  const quote = rest[0]
  if (quote === "'" || quote === '"') {
    const end = findClosingQuote(rest, quote)
    if (end === -1) throw new AivaultError('invalid_request', `${source} line ${line} has an unterminated ${quote === '"' ? 'double' : 'single'} quote`)
    const trailing = rest.slice(end + 1).trim()
    if (trailing !== '' && !trailing.startsWith('#')) throw new AivaultError('invalid_request', `${source} line ${line} has text after the closing quote`)
    const inner = rest.slice(1, end)
    if (quote === "'") return inner
    return inner.replace(/\\([nrt"\\])/g, (_m, c: string) => ({n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\'})[c] as string)
  }
  const comment = rest.search(/\s#/)
  return (comment === -1 ? rest : rest.slice(0, comment)).trim()
}

function findClosingQuote(text: string, quote: string): number {
  for (let i = 1; i < text.length; i++) {
    if (quote === '"' && text[i] === '\\') {
      i++
      continue
    }
    if (text[i] === quote) return i
  }
  return -1
}

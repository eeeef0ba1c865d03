/**
 * Colour for a terminal, never for a pipe: on when the stream is a TTY (and TERM is not
 * `dumb`), off when NO_COLOR is set (no-color.org), forced on by FORCE_COLOR (not `0`/`false`),
 * the convention oclif's own help follows. NO_COLOR wins over FORCE_COLOR. Plain SGR codes:
 * five styles do not need a library.
 */
interface Stream {
  isTTY?: boolean
}

export function colourOn(stream: Stream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR) return false
  const force = env.FORCE_COLOR
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false'
  return stream.isTTY === true && env.TERM !== 'dumb'
}

const style =
  (open: string, close: string) =>
  (text: string, stream: Stream = process.stdout): string =>
    colourOn(stream) ? `\x1b[${open}m${text}\x1b[${close}m` : text

export const bold = style('1', '22')
export const red = style('1;31', '22;39')
export const yellow = style('33', '39')
export const green = style('1;32', '22;39')

/** The `Error:` line and optional `Hint:` line every failure prints on stderr. */
export function errorLines(message: string, hint?: string): string {
  const lines = `${red('Error:', process.stderr)} ${message}\n`
  return hint ? `${lines}${yellow('Hint:', process.stderr)} ${hint}\n` : lines
}

import * as readline from 'node:readline'

import {AivaultError} from '../errors'

/** Read one line without echo on a terminal, or the first line of stdin otherwise. */
export async function readSecretLine(prompt: string): Promise<string> {
  const input = process.stdin
  if (!input.isTTY) {
    const chunks: Buffer[] = []
    for await (const chunk of input) chunks.push(chunk as Buffer)
    const line = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0]
    if (!line) throw new AivaultError('invalid_request', 'no passphrase on standard input', {hint: 'pipe it in, or use --passphrase-file'})
    return line
  }
  process.stderr.write(prompt)
  const rl = readline.createInterface({input, terminal: true})
  // Muted echo: the typed passphrase is never drawn on the screen.
  ;(rl as unknown as {_writeToOutput: (s: string) => void})._writeToOutput = () => {}
  const line = await new Promise<string>((resolve) => rl.question('', resolve))
  rl.close()
  process.stderr.write('\n')
  return line
}

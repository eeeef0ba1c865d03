import {Flags} from '@oclif/core'

import {AivaultCommand} from '../base-command'
import {within} from '../cli/flags'
import {runSandbox, type SandboxReady} from '../sandbox/sandbox'

export default class Sandbox extends AivaultCommand {
  static summary = 'Try an SDK against aivault in one command: an offline API, a throwaway vault and `serve`, until Ctrl-C.'

  static description = [
    'Starts an embedded HTTPS API that answers like api.openai.com (chat completions, streamed or not, and the model list), a throwaway --testing vault holding a fake OPENAI_API_KEY, and "aivault serve" in front of them, mints a proxy token and prints the lines to try.',
    'Touches nothing of yours; Ctrl-C (or SIGTERM) stops everything and removes the temporary folder. --json prints one object once ready, then keeps running. See docs/testing.md.',
  ].join('\n\n')

  static examples = ['<%= config.bin %> sandbox', '<%= config.bin %> sandbox --port 8787 --json']

  static flags = {
    port: Flags.integer({description: 'Port for serve (0 picks a free one).', default: 0, ...within(0, 65535)}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Sandbox)
    const json = this.jsonEnabled()
    await runSandbox({port: flags.port, ready: (info) => (json ? process.stdout.write(JSON.stringify(info) + '\n') : this.log(instructions(info)))})
    if (!json) this.log('Sandbox stopped; its vault, key and folder were removed.')
  }
}

function instructions(info: SandboxReady): string {
  const q = (v: string) => `'${v}'`
  const sdk = 'const {OpenAI} = require("openai"); const c = new OpenAI(); c.chat.completions.create({model: "gpt-demo", messages: [{role: "user", content: "Hello"}]}).then((r) => console.log(r.choices[0].message.content))'
  return [
    `aivault sandbox is ready: "aivault serve" on ${info.serve.url}, in front of an offline API that answers as api.openai.com.`,
    'The vault holds a fake OPENAI_API_KEY; the SDK gets a proxy token instead, and the broker swaps it for the key.',
    '',
    'In another terminal:',
    `  export OPENAI_BASE_URL=${q(info.env.OPENAI_BASE_URL)}`,
    `  export OPENAI_API_KEY=${q(info.env.OPENAI_API_KEY)}`,
    '  curl -sS "$OPENAI_BASE_URL/chat/completions" -H "authorization: Bearer $OPENAI_API_KEY" -H "content-type: application/json" \\',
    `    -d '{"model": "gpt-demo", "messages": [{"role": "user", "content": "Hello"}]}'`,
    '  # with the official SDK (npm install openai in that folder):',
    `  node -e ${q(sdk)}`,
    '',
    `An MCP client (VS Code, Cursor, Claude Code) can use the same tools over HTTP: ${info.serve.url}/mcp with the header`,
    `"Authorization: Bearer <the token above>" (docs/mcp.md).`,
    '',
    `The token (${info.token.id}) can call ${info.token.capabilities.join(' and ')}; anything else is refused with a message the SDK shows.`,
    'Press Ctrl-C to stop; everything is removed then.',
  ].join('\n')
}

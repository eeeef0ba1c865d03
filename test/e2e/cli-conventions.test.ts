import {strict as assert} from 'node:assert'
import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {CLI, REPO_ROOT, type TempVault, useTempVault} from './fixture'

/**
 * The oclif conventions of issue 16: did-you-mean for unknown commands (in the Error + Hint form,
 * exit 2), shell completion, hidden aliases, a readable missing-argument error, and colour only
 * on a terminal.
 */
describe('e2e: CLI conventions', () => {
  const vault = useTempVault()

  /** Run the CLI in a pseudo-terminal (util-linux `script`); the output as the terminal got it. */
  function inTerminal(v: TempVault, args: string[], env: NodeJS.ProcessEnv = {}, input = ''): {status: number; output: string} {
    const command = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')
    const result = spawnSync('script', ['-qefc', command, '/dev/null'], {env: {...v.env, TERM: 'xterm', ...env}, cwd: v.base, input, encoding: 'utf8', timeout: 60_000})
    if (result.error) throw result.error
    return {status: result.status ?? -1, output: result.stdout}
  }

  const hasScript = spawnSync('script', ['--version']).status === 0

  describe('unknown commands', () => {
    it('names the command, suggests the nearest one and exits 2, never prompting without a terminal', () => {
      const result = vault().run(['secrets', 'lst'])
      assert.equal(result.status, 2)
      assert.equal(result.stdout, '')
      assert.equal(result.stderr, 'Error: "secrets lst" is not an aivault command\nHint: did you mean "aivault secrets list"? See "aivault secrets --help"\n')
    })

    it('keeps extra words out of the unknown command (never secrets:lst:extra-arg)', () => {
      const result = vault().run(['secrets', 'lst', 'extra-arg'])
      assert.equal(result.status, 2)
      assert.equal(result.stderr.split('\n')[0], 'Error: "secrets lst" is not an aivault command')
      assert.doesNotMatch(result.stderr, /secrets:lst|extra-arg/)
    })

    it('suggests top-level commands, and nothing when nothing is close', () => {
      assert.equal(vault().run(['stauts']).stderr, 'Error: "stauts" is not an aivault command\nHint: did you mean "aivault status"? See "aivault --help"\n')
      const far = vault().run(['frobnicate'])
      assert.equal(far.status, 2)
      assert.equal(far.stderr, 'Error: "frobnicate" is not an aivault command\nHint: see "aivault --help" for the commands\n')
    })

    it('answers --json with the JSON error on stdout', () => {
      const result = vault().run(['secrets', 'lst', '--json'])
      assert.equal(result.status, 2)
      assert.deepEqual(JSON.parse(result.stdout), {
        error: {code: 'invalid_request', message: '"secrets lst" is not an aivault command', hint: 'did you mean "aivault secrets list"? See "aivault secrets --help"'},
      })
    })

    it('asks "Did you mean" on a terminal and runs the suggestion on yes (@oclif/plugin-not-found)', function () {
      if (!hasScript) this.skip()
      vault().ok(['init', '--testing'])
      const yes = inTerminal(vault(), ['secrets', 'lst'], {}, 'y\r')
      assert.match(yes.output, /Did you mean .*secrets list/)
      assert.match(yes.output, /No secrets/)
      assert.equal(yes.status, 0)
      const no = inTerminal(vault(), ['secrets', 'lst'], {NO_COLOR: '1'}, 'n\r')
      assert.match(no.output, /Error: "secrets lst" is not an aivault command/)
      assert.equal(no.status, 2)
    })
  })

  describe('autocomplete (@oclif/plugin-autocomplete)', () => {
    for (const shell of ['bash', 'zsh', 'powershell']) {
      it(`prints the ${shell} set-up`, () => {
        const result = vault().run(['autocomplete', shell])
        assert.equal(result.status, 0, result.stderr)
        assert.match(result.stdout, new RegExp(`aivault autocomplete script ${shell}`))
      })
    }

    it('writes completions of aivault\'s own commands and flags, and a set-up line that loads them', () => {
      vault().ok(['autocomplete', 'bash'])
      const line = vault().ok(['autocomplete', 'script', 'bash'])
      const setup = /AIVAULT_AC_BASH_SETUP_PATH=(\S+)/.exec(line)
      assert.ok(setup && fs.existsSync(setup[1]), line)
      const completions = fs.readFileSync(path.join(path.dirname(setup[1]), 'functions', 'bash', 'aivault.bash'), 'utf8')
      assert.match(completions, /secrets:list --json/)
      assert.match(completions, /--value-stdin/)
    })
  })

  describe('aliases', () => {
    it('hides aliases from the command lists', () => {
      const root = vault().ok(['--help'])
      assert.match(root, /^ {2}markdown /m)
      assert.doesNotMatch(root, /^ {2}md /m)
      const capability = vault().ok(['capability', '--help'])
      assert.match(capability, /capability describe/)
      for (const alias of ['args', 'shape', 'inspect', 'invoke', 'call', 'json', 'markdown', 'md']) assert.doesNotMatch(capability, new RegExp(`capability ${alias} `))
      assert.doesNotMatch(vault().ok(['plugins', '--help']), /plugins (unlink|remove) /)
    })

    it('still runs every alias', () => {
      const describe = vault().ok(['capability', 'describe', 'openai/chat-completions'])
      assert.equal(vault().ok(['capability', 'args', 'openai/chat-completions']), describe)
      assert.equal(vault().ok(['capability', 'inspect', 'openai/chat-completions']), describe)
      assert.match(vault().ok(['markdown', '--help']), /ALIASES\n {2}\$ aivault md\n/)
      assert.match(vault().ok(['md', '--help']), /render its JSON response as markdown/)
      assert.match(vault().ok(['capability', 'call', '--help']), /Call a capability/)
      assert.match(vault().ok(['plugins', 'remove', '--help']), /Remove an installed or linked plugin/)
    })
  })

  describe('missing arguments', () => {
    it('names the missing capability of invoke and how to call it', () => {
      const result = vault().run(['invoke'])
      assert.equal(result.status, 2)
      assert.equal(result.stderr, 'Error: missing <capability> (Capability id, e.g. openai/chat-completions)\nHint: usage: "aivault invoke <capability> [flags]" (see "aivault invoke --help")\n')
    })

    it('says when a multi-value flag took the argument', () => {
      const result = vault().run(['invoke', '-H', 'X-A=1', 'openai/models'])
      assert.equal(result.status, 2)
      assert.match(result.stderr, /^Error: missing <capability> .*\nHint: .*--header took it as one more value: put <capability> first, or end the flags with --/)
    })
  })

  describe('colour', () => {
    const ESC = '\x1b['

    it('is off without a terminal and with NO_COLOR', function () {
      assert.ok(!vault().run(['frobnicate']).stderr.includes(ESC))
      assert.ok(!vault().run(['frobnicate'], {env: {NO_COLOR: '1', FORCE_COLOR: '1'}}).stderr.includes(ESC))
      if (!hasScript) this.skip()
      const result = inTerminal(vault(), ['frobnicate'], {NO_COLOR: '1'})
      assert.equal(result.status, 2)
      assert.ok(result.output.includes('Error: "frobnicate"'), result.output)
      assert.ok(!result.output.includes(ESC), JSON.stringify(result.output))
    })

    it('colours Error and Hint on a terminal, and Ready/Available', function () {
      if (!hasScript) this.skip()
      const env = {NO_COLOR: ''}
      const result = inTerminal(vault(), ['frobnicate'], env)
      assert.equal(result.status, 2)
      assert.ok(result.output.includes(`${ESC}1;31mError:${ESC}22;39m "frobnicate"`), JSON.stringify(result.output))
      assert.ok(result.output.includes(`${ESC}33mHint:${ESC}39m see`), JSON.stringify(result.output))
      vault().ok(['init', '--testing'])
      const list = inTerminal(vault(), ['capability', 'list'], env)
      assert.ok(list.output.includes(`${ESC}1;32mReady (0 capabilities):${ESC}22;39m`), JSON.stringify(list.output.slice(0, 200)))
      assert.ok(list.output.includes(`${ESC}1mAvailable (`), 'Available is bold')
    })

    it('is forced on by FORCE_COLOR without a terminal', () => {
      const result = vault().run(['frobnicate'], {env: {NO_COLOR: '', FORCE_COLOR: '1'}})
      assert.ok(result.stderr.startsWith(`${ESC}1;31mError:${ESC}22;39m`), JSON.stringify(result.stderr))
      const off = vault().run(['frobnicate'], {env: {NO_COLOR: '', FORCE_COLOR: '0'}})
      assert.ok(!off.stderr.includes(ESC))
    })
  })

  describe('README', () => {
    it('documents every command aivault --help lists', () => {
      const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8')
      const table = readme.split('\n').filter((line) => line.startsWith('| `')).join('\n')
      const listed = (text: string) => [...text.matchAll(/^ {2}(\S+(?: \S+)*?) {2,}/gm)].map((m) => m[1])
      const root = vault().ok(['--help'])
      const [topicsPart, commandsPart] = root.split('\nCOMMANDS\n')
      const topics = listed(topicsPart.split('\nTOPICS\n')[1])
      const ids = [...listed(commandsPart), ...topics.flatMap((t) => listed(vault().ok([...t.split(' '), '--help']).split('\nCOMMANDS\n')[1] ?? ''))]
      assert.ok(ids.length > 50, `${ids.length} commands`)
      const missing = ids.filter((id) => {
        const words = id.split(' ')
        const last = words.pop()!
        const prefix = words.map((w) => `${w} `).join('')
        return !new RegExp(`\`${prefix}(?:[\\w-]+\\\\\\|)*${last}(?:\\\\\\||[\\s\`])`).test(table)
      })
      assert.deepEqual(missing.filter((id) => id !== 'help'), [])
    })
  })
})

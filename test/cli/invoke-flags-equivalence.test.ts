/**
 * One definition per protocol (issue 13 part 3): the thin client (cli/invoke/thin-invoke.ts, no oclif)
 * and the full CLI (oclif's parser with the flags built in cli/invoke/invoke-flags.ts, then
 * envelopeFromFlags/contextFromFlags) must give the same envelope and options for every
 * command line the thin client accepts; every other line it must hand over (undefined).
 * Both tables come from cli/invoke/invoke-flag-table.ts; the cases below cover every flag in it.
 */
import * as assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {Args, Flags, Parser} from '@oclif/core'

import {AivaultCommand} from '../../src/base-command'
import {FAIL_FLAG_TABLE, INVOKE_FLAG_TABLE} from '../../src/cli/invoke/invoke-flag-table'
import {contextFromFlags, envelopeFromFlags, failFlag, invokeFlags} from '../../src/cli/invoke/invoke-flags'
import {parseThinInvoke} from '../../src/cli/invoke/thin-invoke'

const ROOT = path.resolve(__dirname, '..', '..')
const TABLE = {...INVOKE_FLAG_TABLE, ...FAIL_FLAG_TABLE} as Record<string, {char?: string; kind: string; thin: boolean}>

/** What `invoke <argv>` means to the full CLI, as the thin client would state it; or its error. */
async function fullCli(argv: string[]): Promise<unknown> {
  const [, ...rest] = argv
  // `invoke`'s flags as oclif assembles them: its own, the base command's, and --json.
  const flags = {...AivaultCommand.baseFlags, ...invokeFlags, ...failFlag, json: Flags.boolean()}
  const parsed = await Parser.parse(rest, {flags, args: {capability: Args.string({required: true})}, strict: true})
  const f = parsed.flags
  if (f.json || f.verbose) return {json: true}
  const envelope = envelopeFromFlags(parsed.args.capability, f)
  return normalized({envelope, context: contextFromFlags(f), stream: f.stream === true, fail: f.fail === true, followRedirects: f['follow-redirects'] === true})
}

/** As sent over the daemon's socket (JSON: undefined fields drop out). */
const normalized = (value: unknown): unknown => JSON.parse(JSON.stringify(value))

let bodyFile = ''
let requestFile = ''

/** Lines the thin client reads: both paths must agree. */
const SAME: string[][] = [
  ['invoke', 'openai/models'],
  ['invoke', 'openai/models', '-X', 'post'],
  ['invoke', 'openai/models', '--method', 'PATCH'],
  ['invoke', 'openai/models', '--method=get'],
  ['invoke', 'openai/models', '--path', '/v1/models?limit=5'],
  ['invoke', 'openai/models', '--path=/v1/a=b?x=1'],
  ['invoke', 'openai/models', '--path='],
  ['invoke', 'openai/models', '-H', 'accept=application/json', '-H', 'x-one=1', '--header', 'x-two=a=b', '--header=x-three=', '-H', 'x-one=again'],
  ['invoke', 'openai/models', '-H', 'Accept: application/json', '--header=X-Trace:  a=b:c', '-H', 'x-empty:', '-H', 'x-eq=a: b'],
  ['invoke', 'openai/models', '--body', '{"model":"gpt","n":1}'],
  ['invoke', 'openai/models', '--body={"a":"b=c"}'],
  ['invoke', 'openai/models', '--body='],
  ['invoke', 'openai/models', '--credential', 'openai-main'],
  ['invoke', 'openai/models', '--credential=openai-main'],
  ['invoke', 'openai/models', '--credential='],
  ['invoke', 'openai/models', '--workspace-id', 'w1', '--group-id', 'g1', '--consumer', 'agent-x', '--client-ip', '10.1.2.3'],
  ['invoke', 'openai/models', '--workspace-id=w1', '--group-id=g1', '--consumer=agent-x', '--client-ip=::1'],
  ['invoke', 'openai/models', '--workspace-id', 'w1'],
  ['invoke', 'openai/models', '--timeout-ms', '5000'],
  ['invoke', 'openai/models', '--timeout-ms=600000'],
  ['invoke', 'openai/models', '--stream'],
  ['invoke', 'openai/models', '--follow-redirects'],
  ['invoke', 'openai/models', '--fail'],
  ['invoke', 'openai/chat', '--stream', '--fail', '--follow-redirects', '-X', 'POST', '--path', '/v1/chat', '-H', 'content-type=application/json', '--body', '{}', '--credential', 'c1', '--timeout-ms', '1000', '--workspace-id', 'w', '--group-id', 'g', '--consumer', 'me', '--client-ip', '127.0.0.1'],
]

/** Lines the thin client must hand to the full CLI (valid for it or not). */
const HANDED_OVER = (): string[][] => [
  ['invoke', 'openai/models', '--json'],
  ['invoke', 'openai/models', '-v'],
  ['invoke', 'openai/models', '--verbose'],
  ['invoke', 'openai/models', '--request', '{"method":"GET","path":"/v1/models"}'],
  ['invoke', 'openai/models', '--request={"request":{"path":"/v1/models"},"timeoutMs":9}'],
  ['invoke', 'openai/models', '--request-file', requestFile],
  ['invoke', 'openai/models', '--body-file-path', bodyFile],
  ['invoke', 'openai/models', '--body-file-path=' + bodyFile],
  ['invoke', 'openai/models', '--multipart-field', 'k=v', '--multipart-field=k2=v2'],
  ['invoke', 'openai/models', '--multipart-file', `f=${bodyFile}`, '--multipart-file=g=' + bodyFile],
  ['invoke', 'openai/models', '-XPOST'],
  ['invoke', 'openai/models', '-X=POST'],
  ['invoke', 'openai/models', '-X', 'GET', '--method', 'POST'],
  ['invoke', 'openai/models', '--path', '/a', '--path', '/b'],
  ['invoke', 'openai/models', '--body', '-x'],
  ['invoke', 'openai/models', '--body', '--stream'],
  ['invoke', 'openai/models', '--body'],
  ['invoke', 'openai/models', '--stream=true'],
  ['invoke', 'openai/models', '--fail=false'],
  ['invoke', 'openai/models', '--method', 'G1'],
  ['invoke', 'openai/models', '--method='],
  ['invoke', 'openai/models', '-H', 'no-equals'],
  ['invoke', 'openai/models', '-H', '=value'],
  ['invoke', 'openai/models', '-H', ': value'],
  ['invoke', 'openai/models', '--timeout-ms', '0'],
  ['invoke', 'openai/models', '--timeout-ms', '600001'],
  ['invoke', 'openai/models', '--timeout-ms=1e3'],
  ['invoke', 'openai/models', '--group-id', 'g1'],
  ['invoke', 'openai/models', '--credential', 'bad name'],
  ['invoke', 'openai/models', '--workspace-id', 'bad/ws'],
  ['invoke', 'openai/models', '--consumer='],
  ['invoke', 'openai/models', '--client-ip', 'not-an-ip'],
  ['invoke', 'Bad Capability'],
  ['invoke', 'openai/models', '--bogus'],
  ['invoke', 'openai/models', '--', '--body'],
  ['invoke', '-X', 'GET', 'openai/models'],
  ['invoke'],
  ['json', 'openai/models'],
]

describe('invoke flags: the thin client and the full CLI agree (issue 13 part 3)', () => {
  let dir: string
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-flags-'))
    bodyFile = path.join(dir, 'body.bin')
    fs.writeFileSync(bodyFile, Buffer.from([0, 1, 2, 255]))
    requestFile = path.join(dir, 'request.json')
    fs.writeFileSync(requestFile, '{"method":"GET"}')
  })
  after(() => fs.rmSync(dir, {recursive: true, force: true}))

  for (const argv of SAME) {
    it(`same envelope and options: ${argv.slice(1).join(' ')}`, async () => {
      const thin = parseThinInvoke(argv)
      assert.ok(thin, 'the thin client handed over a line it should read')
      assert.deepEqual(normalized(thin), await fullCli(argv))
    })
  }

  it('hands over every line it does not read (flags it leaves to the full CLI, other forms, values the full CLI refuses)', () => {
    for (const argv of HANDED_OVER()) assert.equal(parseThinInvoke(argv), undefined, argv.join(' '))
  })

  it('the handed-over flags still work in the full CLI (the hand-over loses nothing)', async () => {
    const envelope = (await fullCli(['invoke', 'openai/models', '--body-file-path', bodyFile])) as {envelope: {request: {bodyBase64: string}}}
    assert.equal(envelope.envelope.request.bodyBase64, 'AAEC/w==')
    const request = (await fullCli(['invoke', 'openai/models', '--request={"request":{"path":"/v1/models"},"timeoutMs":9}'])) as {envelope: unknown}
    assert.deepEqual(request.envelope, {capability: 'openai/models', request: {path: '/v1/models'}, timeoutMs: 9})
    assert.deepEqual(await fullCli(['invoke', 'openai/models', '--json']), {json: true})
  })

  it('the cases cover every flag of the table, in every form the thin client reads', () => {
    const lines = [...SAME, ...HANDED_OVER()]
    const used = (form: string) => lines.some((argv) => argv.some((arg) => arg === form || (form.startsWith('--') && arg.startsWith(`${form}=`))))
    const usedSame = (form: string) => SAME.some((argv) => argv.includes(form))
    const usedSameEq = (form: string) => SAME.some((argv) => argv.some((arg) => arg.startsWith(`${form}=`)))
    for (const [name, spec] of Object.entries(TABLE)) {
      assert.ok(used(`--${name}`), `no case for --${name}`)
      if (spec.char) assert.ok(used(`-${spec.char}`), `no case for -${spec.char}`)
      if (!spec.thin) continue
      assert.ok(usedSame(`--${name}`), `no agreeing case for --${name}`)
      if (spec.char) assert.ok(usedSame(`-${spec.char}`), `no agreeing case for -${spec.char}`)
      if (spec.kind !== 'boolean') assert.ok(usedSameEq(`--${name}`), `no agreeing case for --${name}=value`)
    }
  })

  it('the thin entry the launcher loads (dist/cli/invoke/thin-invoke.js) loads no package, oclif least of all', () => {
    const entry = path.join(ROOT, 'dist', 'cli', 'invoke', 'thin-invoke.js')
    assert.ok(fs.existsSync(entry), `${entry} is missing: run npm run build first`)
    const script = `require(${JSON.stringify(entry)}); process.stdout.write(JSON.stringify(Object.keys(require.cache)))`
    const run = spawnSync(process.execPath, ['-e', script], {encoding: 'utf8'})
    assert.equal(run.status, 0, run.stderr)
    const loaded = JSON.parse(run.stdout) as string[]
    assert.deepEqual(loaded.filter((file) => file.includes(`${path.sep}node_modules${path.sep}`)), [])
    assert.ok(loaded.some((file) => file.endsWith(path.join('cli', 'invoke', 'invoke-flag-table.js'))), 'the thin client reads the shared table')
  })
})

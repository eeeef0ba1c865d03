import * as fs from 'node:fs'
import type {ServerResponse} from 'node:http'
import * as https from 'node:https'
import type {AddressInfo} from 'node:net'
import * as path from 'node:path'

/** What the demo API saw, for the tour to show (auth values are shown redacted). */
export interface SeenRequest {
  method: string
  path: string
  headers: Record<string, string>
}

/**
 * A tiny HTTPS API that answers like OpenAI for `aivault demo` and `aivault sandbox` (chat
 * completions, as server-sent events with `stream: true`, and the model list), on 127.0.0.1
 * with a throwaway self-signed certificate for api.openai.com (generated on the spot, never
 * written anywhere but the demo's or sandbox's temporary folder).
 */
export async function startDemoUpstream(): Promise<{port: number; certPem: string; seen: SeenRequest[]; close: () => Promise<void>}> {
  const selfsigned = require('selfsigned') as {generate: (attrs: unknown, options: unknown) => Promise<{private: string; cert: string}>}
  const pems = await selfsigned.generate([{name: 'commonName', value: 'api.openai.com'}], {
    keyType: 'ec',
    algorithm: 'sha256',
    days: 1,
    extensions: [{name: 'subjectAltName', altNames: [{type: 2, value: 'api.openai.com'}]}],
  })
  const seen: SeenRequest[] = []
  const server = https.createServer({key: pems.private, cert: pems.cert}, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]))
      seen.push({method: req.method ?? '', path: req.url ?? '', headers})
      res.setHeader('set-cookie', 'session=demo-cookie')
      if (req.url?.startsWith('/v1/chat/completions')) {
        const body = parseBody(Buffer.concat(chunks))
        const question = body.messages?.at(-1)?.content ?? ''
        const answer = `You asked: "${question}". I never saw your API key.`
        if (body.stream === true) return streamAnswer(res, answer)
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify({...completionHead('chat.completion'), choices: [{index: 0, message: {role: 'assistant', content: answer, refusal: null}, logprobs: null, finish_reason: 'stop'}], usage: {prompt_tokens: 5, completion_tokens: 12, total_tokens: 17}}))
      } else {
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify({object: 'list', data: [{id: 'gpt-demo', object: 'model', created: 0, owned_by: 'aivault-demo'}]}))
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    certPem: pems.cert,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections() // kept-alive connections of a broker that is stopping
      }),
  }
}

function parseBody(raw: Buffer): {messages?: Array<{content?: string}>; stream?: boolean} {
  try {
    return JSON.parse(raw.toString('utf8') || '{}') as {messages?: Array<{content?: string}>; stream?: boolean}
  } catch {
    return {}
  }
}

const completionHead = (object: string) => ({id: 'chatcmpl-demo', object, created: Math.floor(Date.now() / 1000), model: 'gpt-demo'})

/** `stream: true`: the answer word by word as server-sent events, as the OpenAI API sends them. */
function streamAnswer(res: ServerResponse, answer: string): void {
  res.writeHead(200, {'content-type': 'text/event-stream', 'cache-control': 'no-cache'})
  const event = (delta: Record<string, unknown>, finish: string | null) =>
    `data: ${JSON.stringify({...completionHead('chat.completion.chunk'), choices: [{index: 0, delta, logprobs: null, finish_reason: finish}]})}\n\n`
  const words = answer.split(/(?<= )/)
  for (const [i, word] of words.entries()) res.write(event(i === 0 ? {role: 'assistant', content: word} : {content: word}, null))
  res.write(event({}, 'stop'))
  res.end('data: [DONE]\n\n')
}

/**
 * The environment of a throwaway vault under `base` whose api.openai.com is this upstream
 * (`demo` and `sandbox`), with the upstream's CA written next to it. Test mode (SPEC §14) is
 * honoured only because the vault is made with testing: true.
 */
export function demoVaultEnv(base: string, upstream: {port: number; certPem: string}): NodeJS.ProcessEnv {
  const caPath = path.join(base, 'upstream-ca.pem')
  fs.writeFileSync(caPath, upstream.certPem, {mode: 0o600})
  return {
    ...process.env,
    AIVAULT_DIR: path.join(base, 'vault'),
    AIVAULT_KEYS_DIR: path.join(base, 'keys'),
    AIVAULT_DEV_RESOLVE: `api.openai.com=127.0.0.1:${upstream.port}`,
    AIVAULT_DEV_CA_CERT_PATH: caPath,
    AIVAULT_DEV_ALLOW_PRIVATE_UPSTREAMS: '1',
  }
}

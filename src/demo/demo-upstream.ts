import * as https from 'node:https'
import type {AddressInfo} from 'node:net'

/** What the demo API saw, for the tour to show (auth values are shown redacted). */
export interface SeenRequest {
  method: string
  path: string
  headers: Record<string, string>
}

/**
 * A tiny HTTPS API that answers like OpenAI for `aivault demo`, on 127.0.0.1 with a throwaway
 * self-signed certificate for api.openai.com (generated on the spot, never written anywhere
 * but the demo's temporary folder).
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
      res.setHeader('content-type', 'application/json')
      res.setHeader('set-cookie', 'session=demo-cookie')
      if (req.url?.startsWith('/v1/chat/completions')) {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {messages?: Array<{content?: string}>}
        const question = body.messages?.at(-1)?.content ?? ''
        res.end(JSON.stringify({id: 'chatcmpl-demo', object: 'chat.completion', choices: [{index: 0, message: {role: 'assistant', content: `You asked: "${question}". I never saw your API key.`}}]}))
      } else {
        res.end(JSON.stringify({object: 'list', data: [{id: 'gpt-demo', owned_by: 'aivault-demo'}]}))
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    certPem: pems.cert,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

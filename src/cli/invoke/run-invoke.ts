import type {PlannedRequest} from '../../broker/pipeline'
import {AivaultError} from '../../errors'
import type {MarkdownOptions} from '../../render/markdown'
import {renderMarkdown} from '../../render/markdown'
import {routeInvocation} from './broker-route'
import {failFlag, invocationFromFlags, invokeFlags} from './invoke-flags'

export {failFlag, invokeFlags}

/** `invoke --json` and `aivault json` (SPEC §15). */
export interface InvokeJson {
  planned: PlannedRequest
  response: {status: number; json: unknown; text?: string}
}

type Flags = Parameters<typeof invocationFromFlags>[1] & {stream?: boolean; 'follow-redirects'?: boolean; fail?: boolean}

async function start(capability: string, flags: Flags, stream: boolean) {
  const {envelope, context} = await invocationFromFlags(capability, flags)
  return routeInvocation(envelope, {context, stream, followRedirects: flags['follow-redirects']})
}

async function collect(body: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of body) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** Raw invoke: the body bytes only, streamed to stdout as they arrive. Returns the status. */
export async function invokeRaw(capability: string, flags: Flags): Promise<{planned: PlannedRequest; status: number}> {
  const result = await start(capability, flags, flags.stream === true)
  await new Promise<void>((resolve, reject) => {
    result.body.once('error', reject)
    result.body.once('end', resolve)
    result.body.pipe(process.stdout, {end: false})
  })
  await result.done
  return {planned: result.planned, status: result.status}
}

export async function invokeJson(capability: string, flags: Flags): Promise<InvokeJson> {
  const result = await start(capability, flags, false)
  const text = (await collect(result.body)).toString('utf8')
  await result.done
  try {
    return {planned: result.planned, response: {status: result.status, json: text === '' ? null : JSON.parse(text)}}
  } catch {
    return {planned: result.planned, response: {status: result.status, json: null, text}}
  }
}

export async function invokeMarkdown(capability: string, flags: Flags, options: MarkdownOptions): Promise<{status: number; markdown: string}> {
  const {response} = await invokeJson(capability, flags)
  if (response.text !== undefined) {
    if (!succeeded(response.status)) {
      throw new AivaultError('invalid_request', `${capability} answered HTTP ${response.status}, with a body that is not JSON`, {hint: 'use "aivault invoke" for the raw body', exitCode: markdownFailure(flags.fail)})
    }
    throw new AivaultError('invalid_request', `the response (HTTP ${response.status}) is not JSON, so it cannot be rendered as markdown`, {hint: 'use "aivault invoke" for the raw body'})
  }
  return {status: response.status, markdown: renderMarkdown(response.json, options)}
}

const succeeded = (status: number) => status >= 200 && status < 300

/** markdown's exit for a non-2xx answer: 1, or curl's 22 with --fail (as invoke). */
function markdownFailure(fail: boolean | undefined): number {
  return fail ? 22 : 1
}

/**
 * What markdown says after printing a non-2xx body: rendered alone, an error body reads like
 * an answer, so the status goes to stderr and the exit code says it failed.
 */
export function markdownStatus(capability: string, status: number, fail: boolean | undefined): string | undefined {
  if (succeeded(status)) return undefined
  process.exitCode = markdownFailure(fail)
  return `${capability} answered HTTP ${status}; the markdown above is its error body`
}

/** curl-style --fail: exit 22 on HTTP >= 400. */
export function failExit(status: number, fail: boolean | undefined): void {
  if (fail && status >= 400) process.exitCode = 22
}

/**
 * Runs plugin hooks wherever the broker runs (the CLI in-process, aivaultd, serve): each hook
 * module is loaded once per process, hooks run one at a time in plugin order, and each within a
 * timeout. A hook that throws fails the invocation with its message; one that hangs fails it
 * when its time is up (a hook stuck in a synchronous loop cannot be interrupted in-process:
 * see docs/plugins.md). Neither takes the process down.
 */
import * as path from 'node:path'
import {pathToFileURL} from 'node:url'

import {AivaultError, ErrorCode} from '../errors'
import type {AfterInvokePayload, BeforeInvokePayload, HookEvent, ProviderPayload, ProviderResult} from './hooks'
import type {InstalledPlugin} from './installed'
import {importModule} from './import-module'
import {assertTrusted, trustState} from './trust'

/** How long a before- or after-invoke hook may take unless AIVAULT_PLUGIN_HOOK_TIMEOUT_MS says otherwise. */
export const DEFAULT_HOOK_TIMEOUT_MS = 10_000
const MAX_MESSAGE = 500

type HookFunction = (payload: unknown) => unknown

export class PluginHooks {
  readonly hookTimeoutMs: number
  private readonly loaded = new Map<string, Promise<HookFunction>>()
  private readonly byName = new Map<string, InstalledPlugin>()

  constructor(
    readonly plugins: readonly InstalledPlugin[],
    private readonly env: NodeJS.ProcessEnv,
  ) {
    for (const plugin of plugins) this.byName.set(plugin.name, plugin)
    const configured = Number(env.AIVAULT_PLUGIN_HOOK_TIMEOUT_MS)
    this.hookTimeoutMs = Number.isInteger(configured) && configured > 0 ? configured : DEFAULT_HOOK_TIMEOUT_MS
  }

  /** Whether any plugin hooks this event (an invocation skips the work otherwise). */
  has(event: HookEvent): boolean {
    return this.plugins.some((p) => !p.problem && (p.hooks[event]?.length ?? 0) > 0)
  }

  /**
   * Every before-invoke hook, in plugin order; the first to throw refuses the invocation.
   * `check` runs after each plugin's hooks, with its name, to hold what it changed to the rules.
   */
  async beforeInvoke(payload: BeforeInvokePayload, check?: (plugin: string) => void): Promise<void> {
    await this.runAll('aivault:before-invoke', payload, check)
  }

  /** Every after-invoke hook, in plugin order, on the sanitized response. */
  async afterInvoke(payload: AfterInvokePayload): Promise<void> {
    await this.runAll('aivault:after-invoke', payload)
  }

  /**
   * The provider hook of `pluginName` for one of its `transport: plugin` capabilities. It is
   * given decrypted secrets, so the plugin must be trusted and unchanged, checked again after
   * its code is loaded (a file swapped in between would otherwise run once).
   */
  async provide(pluginName: string, payload: Omit<ProviderPayload, 'signal'>, signal: AbortSignal): Promise<ProviderResult> {
    const plugin = this.byName.get(pluginName)
    const file = plugin?.hooks['aivault:provider']?.[0]
    if (!plugin || !file || plugin.problem) {
      throw new AivaultError('capability_not_found', `${payload.capability.id} needs plugin ${pluginName}'s aivault:provider hook, which is not installed`, {hint: 'aivault plugins list'})
    }
    assertTrusted(plugin, this.env)
    const hook = await this.load(plugin, file, 'aivault:provider')
    assertTrusted(plugin, this.env)
    const result = await this.run(plugin, 'aivault:provider', () => hook({...payload, signal}), payload.timeoutMs, signal)
    return checkedResult(plugin, result)
  }

  /** Whether `pluginName` may receive secrets now (for `plugins list`). */
  trusted(pluginName: string): boolean {
    const plugin = this.byName.get(pluginName)
    return plugin !== undefined && trustState(plugin, this.env).trusted
  }

  private async runAll(event: HookEvent, payload: unknown, check?: (plugin: string) => void): Promise<void> {
    for (const plugin of this.plugins) {
      if (plugin.problem || !plugin.hooks[event]) continue
      for (const file of plugin.hooks[event]) {
        const hook = await this.load(plugin, file, event)
        await this.run(plugin, event, () => hook(payload), this.hookTimeoutMs)
      }
      check?.(plugin.name)
    }
  }

  private load(plugin: InstalledPlugin, file: string, event: HookEvent): Promise<HookFunction> {
    let loading = this.loaded.get(file)
    if (!loading) {
      loading = loadHookModule(file, plugin.esm).catch((error: unknown) => {
        this.loaded.delete(file)
        throw hookError(plugin, event, 'could not be loaded', error, 'policy_violation')
      })
      this.loaded.set(file, loading)
    }
    return loading
  }

  /** Run one hook within `timeoutMs`; its failure becomes an AivaultError naming the plugin. */
  private async run<T>(plugin: InstalledPlugin, event: HookEvent, call: () => T | Promise<T>, timeoutMs: number, signal?: AbortSignal): Promise<T> {
    const failedCode: ErrorCode = event === 'aivault:provider' ? 'upstream_unreachable' : 'policy_violation'
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AivaultError('upstream_timeout', `plugin ${plugin.name}'s ${event} hook did not finish within ${timeoutMs} ms`)), timeoutMs)
    })
    try {
      const work = Promise.resolve().then(call)
      // A hook that is given up on may still settle later: that must not be an unhandled rejection.
      work.catch(() => {})
      return await Promise.race([work, timedOut])
    } catch (error) {
      if (error instanceof AivaultError && error.code === 'upstream_timeout') throw error
      if (signal?.aborted) throw new AivaultError('upstream_unreachable', `the caller went away while plugin ${plugin.name} was working`)
      throw hookError(plugin, event, event === 'aivault:before-invoke' ? 'refused the request' : 'failed', error, failedCode)
    } finally {
      clearTimeout(timer)
    }
  }
}

function hookError(plugin: InstalledPlugin, event: HookEvent, what: string, error: unknown, code: ErrorCode): AivaultError {
  if (error instanceof AivaultError && error.code === 'plugin_untrusted') return error
  const raw = error instanceof Error ? error.message : String(error)
  const message = raw.length > MAX_MESSAGE ? `${raw.slice(0, MAX_MESSAGE)}…` : raw
  return new AivaultError(code, `plugin ${plugin.name}'s ${event} hook ${what}: ${message}`)
}

/** A provider result must be a status and a JSON value or a body; anything else is the plugin's bug. */
function checkedResult(plugin: InstalledPlugin, result: unknown): ProviderResult {
  const r = result as ProviderResult | undefined
  const validStatus = r !== undefined && r !== null && Number.isInteger(r.status) && r.status >= 100 && r.status <= 599
  const validBody = r !== undefined && r !== null && (r.body === undefined || typeof r.body === 'string' || Buffer.isBuffer(r.body))
  const validHeaders = r?.headers === undefined || (typeof r.headers === 'object' && Object.values(r.headers).every((v) => typeof v === 'string'))
  if (!validStatus || !validBody || !validHeaders) {
    throw new AivaultError('upstream_unreachable', `plugin ${plugin.name}'s aivault:provider hook returned no valid response ({status, json} or {status, body})`)
  }
  return r as ProviderResult
}

/** A hook module's function: its default export, or the module itself when it is a function. */
async function loadHookModule(file: string, esm: boolean): Promise<HookFunction> {
  const isEsm = file.endsWith('.mjs') || (esm && !file.endsWith('.cjs'))
  const loaded: unknown = isEsm ? await importModule(pathToFileURL(file).href) : require(path.resolve(file))
  const candidate = typeof loaded === 'function' ? loaded : (loaded as {default?: unknown})?.default
  if (typeof candidate !== 'function') throw new Error(`${file} exports no function (module.exports or export default)`)
  return candidate as HookFunction
}

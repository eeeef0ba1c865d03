import type {CapabilityPolicy} from '../vault/store/broker-records'
import type {Keyring} from '../vault/keys/keyring'
import {recordsVersion} from '../vault/store/stat-cache'
import type {Vault} from '../vault/vault'
import {VersionedMemo} from '../versioned-memo'
import {applyFixedAuth, injectedNames} from './auth'
import type {AuthInjection, AuthMaterial} from './auth/types'
import type {ResolvedCapability} from './credential/capabilities'
import {findCapability} from './credential/capabilities'
import {effectiveHost} from './credential/hosts'
import {loadMaterial} from './credential/material'
import type {BrokerDeps} from './deps'
import {loadPolicy} from './request/policy'
import type {InvocationContext, ResolvedCredential} from './credential/resolve-credential'
import {resolveCredential} from './credential/resolve-credential'
import {secretSpellings} from './response/scrub'
import type {TestOverrides} from './request/test-mode'
import {readTestOverrides} from './request/test-mode'

/**
 * What an invocation resolves to before its own method, path, headers and body (SPEC §7
 * steps 2-3, 6-7): the capability, the credential, its policy and upstream host. Long-lived
 * processes keep a route while the vault's watched folders are unchanged (stat-cache.ts), and
 * its decrypted material while the keyring that opened it is still held, so `lock`, an unlock
 * TTL running out or a re-keyed vault still take effect on the next call.
 */
export interface Route {
  capability: ResolvedCapability
  /** Upper-case methods the capability allows. */
  methods: string[]
  credential: ResolvedCredential
  policy: CapabilityPolicy
  injected: {headers: Set<string>; query: Set<string>}
  overrides: TestOverrides
  upstream?: {host: string; port: number}
  material?: RouteMaterial
  /** The fixed part of this route's capability.invoke events, by caller address, method and path (pipeline.ts). */
  eventPrefixes?: Map<string, string>
}

const routes = new VersionedMemo<Route>(recordsVersion)

function routeKey(capability: string, credential: string | undefined, ctx: InvocationContext): string {
  return `${capability}\0${credential ?? ''}\0${ctx.workspaceId ?? ''}\0${ctx.groupId ?? ''}\0${ctx.consumer ?? ''}`
}

/**
 * Resolve (or reuse) the route of an invocation. `onMethods` sees the capability's methods
 * before the credential is resolved, so a refused call's audit event still names its method.
 */
export function resolveRoute(deps: BrokerDeps, capabilityId: string, explicitCredential: string | undefined, ctx: InvocationContext, onMethods: (methods: string[]) => void): Route {
  let told = false
  const route = routes.get(routeKey(capabilityId, explicitCredential, ctx), () => {
    const {vault, registry} = deps
    const capability = findCapability(vault, registry, capabilityId)
    const methods = capability.allow.methods.map((m) => m.toUpperCase())
    onMethods(methods)
    told = true
    const credential = resolveCredential(vault, registry, capability, explicitCredential, ctx)
    const testing = vault.exists() ? vault.config().testing : false
    return {
      capability,
      methods,
      credential,
      policy: loadPolicy(vault, capability.id),
      injected: injectedNames(credential.auth),
      overrides: overridesFor(deps.env, testing),
    }
  })
  if (!told) onMethods(route.methods)
  return route
}

/** SPEC §7 step 6, computed once per route (it may refuse, after the path checks). */
export function routeUpstream(route: Route): {host: string; port: number} {
  route.upstream ??= effectiveHost(route.credential, route.capability, route.overrides.allowNonDefaultPorts)
  return route.upstream
}

/**
 * A route's decrypted secrets (tied to the keyring that opened them), with the auth injection
 * and the spellings to scrub too when the injection depends on the secrets alone (applyFixedAuth).
 */
export interface RouteMaterial {
  keyring: Keyring
  values: AuthMaterial
  fixed?: {auth: AuthInjection; spellings: string[]}
}

/** The route's material from memory, while the keyring that opened it is still held. */
export function heldMaterial(vault: Vault, route: Route): RouteMaterial | undefined {
  const known = route.material
  return known && vault.heldKeyring() === known.keyring ? known : undefined
}

/** Step 10: the route's material, decrypted again only when the keyring changed (lock, TTL, re-key). */
export async function routeMaterial(vault: Vault, route: Route, ctx: InvocationContext): Promise<RouteMaterial> {
  const known = route.material
  if (known && (await vault.keyring()) === known.keyring) return known
  const values = await loadMaterial(vault, route.credential, ctx)
  const keyring = await vault.keyring()
  const secrets = Object.values(values.values)
  const auth = applyFixedAuth(route.credential.auth, values)
  const material: RouteMaterial = {keyring, values, fixed: auth && {auth, spellings: spellingsWith(secrets, auth.redact)}}
  route.material = material
  return material
}

/** Spellings of the secrets and of any value auth derived from them (a basic-auth token, a signature). */
export function spellingsWith(secrets: string[], redact: string[]): string[] {
  return secretSpellings([...secrets, ...redact.filter((value) => !secrets.includes(value))])
}

const overridesCache = new WeakMap<NodeJS.ProcessEnv, {testing: boolean; value: TestOverrides}>()

/** The test overrides of an environment, parsed once (a long-lived process keeps its env). */
function overridesFor(env: NodeJS.ProcessEnv, testing: boolean): TestOverrides {
  const cached = overridesCache.get(env)
  if (cached && cached.testing === testing) return cached.value
  const value = readTestOverrides(env, testing)
  overridesCache.set(env, {testing, value})
  return value
}

/**
 * The provider registry at run time. The built-in registry is the precompiled
 * dist/registry.json (no YAML parsing, no schema compilation at start-up); it is immutable:
 * every object it hands out is frozen.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import {AivaultError} from '../errors'
import {packageRoot} from '../package-root'
import {computeRegistryDigest, diffRegistryFiles} from './digest'
import {BuiltRegistry, CapabilityDef, ProviderDef, SecretClaim} from './types'

export const BUILTIN_REGISTRY_DIR = path.join(packageRoot(), 'registry')
export const BUILTIN_REGISTRY_JSON = path.join(packageRoot(), 'dist', 'registry.json')

const REBUILD_HINT = 'reinstall aivault or run npm run build'

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}

export class Registry {
  /** Digest of the sources this registry was built from, when known. */
  readonly digest?: string
  private readonly byId = new Map<string, ProviderDef>()
  private readonly claims = new Map<string, SecretClaim>()
  private readonly capabilitiesById = new Map<string, CapabilityDef>()

  /** Throws `conflict` on a duplicate provider id or a secret name claimed by two providers. */
  constructor(providers: readonly ProviderDef[], digest?: string) {
    this.digest = digest
    const sorted = [...providers].sort((a, b) => (a.provider < b.provider ? -1 : a.provider > b.provider ? 1 : 0))
    for (const def of sorted) {
      if (this.byId.has(def.provider)) throw new AivaultError('conflict', `provider ${def.provider} is defined twice`)
      this.byId.set(def.provider, deepFreeze(def))
      const claim = (name: string, c: SecretClaim) => {
        const owner = this.claims.get(name)
        if (owner && owner.provider !== def.provider) {
          throw new AivaultError('conflict', `secret ${name} is claimed by both ${owner.provider} and ${def.provider}`)
        }
        if (!owner) this.claims.set(name, Object.freeze(c))
      }
      for (const [name, placeholder] of Object.entries(def.vaultSecrets)) claim(name, {provider: def.provider, placeholder})
      for (const alt of def.credentialAlternatives ?? []) {
        for (const [name, placeholder] of Object.entries(alt.vaultSecrets)) {
          claim(name, {provider: def.provider, placeholder, alternative: alt.id})
        }
      }
      for (const capability of this.collectCapabilities(def)) this.capabilitiesById.set(capability.id, capability)
    }
  }

  /** Main capabilities first, then those only a credential alternative defines. */
  private collectCapabilities(def: ProviderDef): CapabilityDef[] {
    const out = [...def.capabilities]
    for (const alt of def.credentialAlternatives ?? []) {
      for (const capability of alt.capabilities ?? []) {
        if (!out.some((c) => c.id === capability.id)) out.push(capability)
      }
    }
    return out
  }

  /** All providers, sorted by id. */
  providers(): ProviderDef[] {
    return [...this.byId.values()]
  }

  provider(id: string): ProviderDef | undefined {
    return this.byId.get(id)
  }

  /** The provider that claims a canonical secret name (exact, case-sensitive), if any. */
  claimFor(secretName: string): SecretClaim | undefined {
    return this.claims.get(secretName)
  }

  capability(id: string): CapabilityDef | undefined {
    return this.capabilitiesById.get(id)
  }

  /** A provider's capabilities (main, then alternative-only ones); empty for an unknown provider. */
  capabilitiesOf(provider: string): CapabilityDef[] {
    const def = this.byId.get(provider)
    return def ? this.collectCapabilities(def) : []
  }
}

/** dist/registry.json parsed once per process (loading and verifying both need it). */
const builtCache = new Map<string, BuiltRegistry>()

function readBuiltRegistry(file: string): BuiltRegistry {
  const cached = builtCache.get(file)
  if (cached) return cached
  const built = parseBuiltRegistry(file)
  builtCache.set(file, built)
  return built
}

function parseBuiltRegistry(file: string): BuiltRegistry {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch {
    throw new AivaultError('vault_tampered', `built-in registry missing: ${file}`, {hint: REBUILD_HINT})
  }
  try {
    const built = JSON.parse(text) as BuiltRegistry
    if (typeof built.digest !== 'string' || !Array.isArray(built.providers) || typeof built.files !== 'object') throw new Error('shape')
    return built
  } catch {
    throw new AivaultError('vault_tampered', `built-in registry unreadable: ${file}`, {hint: REBUILD_HINT})
  }
}

const loaded = new Map<string, Registry>()

/** The built-in registry from dist/registry.json, read once per process (per path). */
export function loadBuiltinRegistry(file: string = BUILTIN_REGISTRY_JSON): Registry {
  let registry = loaded.get(file)
  if (!registry) {
    const built = readBuiltRegistry(file)
    registry = new Registry(built.providers, built.digest)
    loaded.set(file, registry)
  }
  return registry
}

/**
 * Throws `vault_tampered` when the registry/ folder no longer matches the digest recorded by
 * the build, naming the files that changed, appeared or disappeared. Hashes bytes only.
 */
export function verifyBuiltinRegistry(
  paths: {registryDir?: string; registryJson?: string} = {},
): void {
  const registryDir = paths.registryDir ?? BUILTIN_REGISTRY_DIR
  const built = readBuiltRegistry(paths.registryJson ?? BUILTIN_REGISTRY_JSON)
  let actual: {digest: string; files: Record<string, string>}
  try {
    actual = computeRegistryDigest(registryDir)
  } catch {
    throw new AivaultError('vault_tampered', 'built-in registry modified: registry/ is missing or unreadable', {hint: REBUILD_HINT})
  }
  if (actual.digest === built.digest) return
  const changes = diffRegistryFiles(built.files, actual.files)
  const list = changes.length > 0 ? changes.map((c) => `registry/${c.name} (${c.change})`).join(', ') : 'digest mismatch'
  throw new AivaultError('vault_tampered', `built-in registry modified: ${list}`, {hint: REBUILD_HINT})
}

/**
 * Values derived from data that changes rarely (a route, a token's record, a credential),
 * reused while `version()` answers the same number and computed afresh every time while it
 * answers undefined (nothing tells us about changes: the one-shot CLI). A failed computation
 * is not kept. Bounded: a full memo starts over.
 *
 * The version source is passed in (the vault's `recordsVersion` from its stat cache), so the
 * memo itself knows no layer and any layer can use it.
 */
export class VersionedMemo<V> {
  private version?: number
  private readonly values = new Map<string, V>()

  constructor(
    private readonly currentVersion: () => number | undefined,
    private readonly max = 1000,
  ) {}

  get(key: string, compute: (key: string) => V): V {
    const version = this.currentVersion()
    if (version === undefined) return compute(key)
    if (version !== this.version) {
      this.values.clear()
      this.version = version
    }
    let value = this.values.get(key)
    if (value === undefined && !this.values.has(key)) {
      value = compute(key)
      if (this.values.size >= this.max) this.values.clear()
      this.values.set(key, value)
    }
    return value as V
  }
}

import type {KeyProvider} from './types'

/**
 * A KEK already in memory (a passphrase vault unlocked in aivaultd), as a key provider, so the
 * keyring is loaded and vault.yaml's MAC verified exactly as for any other provider.
 */
export function heldKeyProvider(kek: Uint8Array): KeyProvider {
  return {
    type: 'passphrase',
    location: undefined,
    loadKek: async () => kek,
    loadPendingKek: async () => undefined,
    stagePendingKek: async () => {},
    commitPendingKek: async () => {},
  }
}

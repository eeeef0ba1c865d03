/**
 * The test-override variables (SPEC §14), in a module of their own with no imports: the thin
 * invoke client states them in every frame and must not load the broker to name them.
 */
export const TEST_OVERRIDE_VARIABLES = ['AIVAULT_DEV_RESOLVE', 'AIVAULT_DEV_CA_CERT_PATH', 'AIVAULT_DEV_ALLOW_NON_DEFAULT_PORTS', 'AIVAULT_DEV_ALLOW_PRIVATE_UPSTREAMS'] as const

/** The part of the `aws4` devDependency (no published types) that the SigV4 cross-check uses. */
declare module 'aws4' {
  export function sign(request: Record<string, unknown>, credentials: {accessKeyId: string; secretAccessKey: string; sessionToken?: string}): Record<string, unknown>
}

import * as fs from 'node:fs'
import * as path from 'node:path'

import {requireWithCodeCache} from '../code-cache'
import {packageRoot} from '../package-root'

export type McpSdk = typeof import('./sdk-entry')

let sdk: McpSdk | undefined

/**
 * The MCP SDK, on first use: the build's bundle of it (dist/mcp-sdk.js) when there is one,
 * else the SDK's own modules (a tsc-only build).
 */
export function loadMcpSdk(): McpSdk {
  if (sdk) return sdk
  const bundle = path.join(packageRoot(), 'dist', 'mcp-sdk.js')
  sdk = fs.existsSync(bundle) ? (requireWithCodeCache(bundle, `${bundle}.cache`) as McpSdk) : (require('./sdk-entry') as McpSdk)
  return sdk
}

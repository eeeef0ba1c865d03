/**
 * The parts of the MCP SDK that `aivault mcp` uses. The build bundles this file, with the SDK
 * and zod, into dist/mcp-sdk.js (loaded through a V8 code cache: sdk.ts); the SDK's own
 * hundreds of modules took ~100 ms to load one by one.
 */
export {Server} from '@modelcontextprotocol/sdk/server/index.js'
export {StdioServerTransport} from '@modelcontextprotocol/sdk/server/stdio.js'
export {CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError} from '@modelcontextprotocol/sdk/types.js'

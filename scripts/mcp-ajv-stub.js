// Stands in for the MCP SDK's validation/ajv-provider.js in dist/mcp-sdk.js (scripts/bundle.js):
// aivault's server passes its own jsonSchemaValidator (src/mcp/mcp-server.ts), so the SDK's
// default, which would bring ajv into the bundle, is never made.
export class AjvJsonSchemaValidator {
  constructor() {
    throw new Error('the MCP SDK default validator is not bundled: pass jsonSchemaValidator')
  }
}

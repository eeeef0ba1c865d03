/**
 * Layer rules for src/ (see docs/architecture.md). Run by `npm run lint`;
 * test/lint/layers.test.ts proves each rule catches a violation.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Modules form a tree of layers: a cycle means two modules are one module or a layer leaks upward.',
      from: {},
      to: {circular: true},
    },
    {
      name: 'vault-stays-below',
      severity: 'error',
      comment: 'src/vault is the store: it knows nothing of the broker, the servers, the daemon, the CLI or commands.',
      from: {path: '^src/vault/'},
      to: {path: '^src/(broker|server|daemon|cli|commands)/'},
    },
    {
      name: 'broker-not-ui',
      severity: 'error',
      comment: 'src/broker is the pipeline shared by invoke, aivaultd and serve: no CLI, command or rendering code.',
      from: {path: '^src/broker/'},
      to: {path: '^src/(cli|commands|render)/'},
    },
    {
      name: 'broker-no-files',
      severity: 'error',
      comment: 'src/broker never touches files directly: it asks src/vault (records, key files, a testing vault\'s CA file).',
      from: {path: '^src/broker/'},
      to: {dependencyTypes: ['core'], path: '^(node:)?fs(/promises)?$'},
    },
    {
      name: 'render-types-only',
      severity: 'error',
      comment: 'src/render formats results: it may name other layers\' types, never run their code.',
      from: {path: '^src/render/'},
      to: {path: '^src/', pathNot: '^src/render/', dependencyTypesNot: ['type-only']},
    },
    {
      name: 'plugins-below-broker',
      severity: 'error',
      comment: 'src/plugins loads and runs plugins for every entry point: it builds on the registry and never reaches up into the broker, servers, daemon, CLI, commands or rendering.',
      from: {path: '^src/plugins/'},
      to: {path: '^src/(broker|server|daemon|cli|commands|render)/'},
    },
    {
      name: 'plugins-vault-types-only',
      severity: 'error',
      comment: 'Plugins never touch the vault: a hook gets secrets only from the broker, which asks the vault.',
      from: {path: '^src/plugins/'},
      to: {path: '^src/vault/', dependencyTypesNot: ['type-only']},
    },
    {
      name: 'mcp-below-entry-points',
      severity: 'error',
      comment: 'src/mcp is the MCP server over a broker it is given: `aivault mcp` (src/cli) and serve (src/server) wire it to theirs, never the reverse.',
      from: {path: '^src/mcp/'},
      to: {path: '^src/(server|daemon|cli|commands|render)/'},
    },
    {
      name: 'nothing-imports-commands',
      severity: 'error',
      comment: 'A command is an entry point: shared code lives in src/cli or a service, never in another command.',
      from: {},
      to: {path: '^src/commands/'},
    },
  ],
  options: {
    doNotFollow: {path: 'node_modules'},
    exclude: {path: '^(node_modules|dist)/'},
    tsPreCompilationDeps: true,
    tsConfig: {fileName: 'tsconfig.json'},
    moduleSystems: ['cjs', 'es6'],
  },
}

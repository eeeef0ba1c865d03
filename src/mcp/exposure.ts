import {usageError} from '../errors'

/**
 * What an MCP server exposes (`aivault mcp --capability`, a proxy token's capabilities): a list
 * of capability ids and patterns where `*` stands for any run of characters (`openai/*`,
 * `github/repos`, `*`). No pattern exposes every capability that is ready. Nothing outside the
 * patterns is callable through the server, whatever a tool call names.
 */
export class Exposure {
  private readonly exact = new Set<string>()
  private readonly globs: RegExp[] = []

  constructor(
    readonly patterns: readonly string[],
    private readonly allWhenEmpty = true,
  ) {
    for (const pattern of patterns) {
      if (!pattern.includes('*')) this.exact.add(pattern)
      else this.globs.push(new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`))
    }
  }

  /** Exactly these capability ids (a proxy token's list: ids never hold `*`); none exposes nothing. */
  static exactly(ids: readonly string[]): Exposure {
    return new Exposure(ids, false)
  }

  allows(capability: string): boolean {
    if (this.patterns.length === 0) return this.allWhenEmpty
    return this.exact.has(capability) || this.globs.some((glob) => glob.test(capability))
  }
}

const PATTERN = /^[A-Za-z0-9*][A-Za-z0-9_.:/*-]*$/

/** The `--capability` patterns, checked (a typo is a usage error, not a server that exposes nothing). */
export function parsePatterns(values: readonly string[] | undefined): Exposure {
  for (const value of values ?? []) {
    if (value.length > 200 || !PATTERN.test(value)) {
      throw usageError(`--capability ${JSON.stringify(value)} is not a capability id or pattern`, 'use an id such as github/repos, or * for any run of characters: openai/*')
    }
  }
  return new Exposure(values ?? [])
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

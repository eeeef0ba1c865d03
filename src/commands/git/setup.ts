import * as path from 'node:path'

import {AivaultCommand} from '../../base-command'
import {packageRoot} from '../../package-root'
import {renderGitSetup} from '../../render/vault'
import type {GitSetupResult} from '../../vault/git/git-setup'
import {setupGit} from '../../vault/git/git-setup'
import {Vault} from '../../vault/vault'

export default class GitSetup extends AivaultCommand {
  static summary = 'Make git diff and git log -p show sealed records as readable metadata ("value: version 3") instead of base64.'

  static description =
    'Writes .gitattributes in the vault folder (commit it) and the "aivault" diff driver in the enclosing repository\'s local git config (each clone runs this once; it names this node and this CLI by absolute path). Running it again changes nothing.'

  static examples = ['<%= config.bin %> git setup', 'git diff  # then: records show as "secret NAME ... value: version 3, sealed (...)"']

  async run(): Promise<GitSetupResult> {
    await this.parse(GitSetup)
    // The CLI that ran git setup (SPEC §15 Teams): this package's bin, under this node.
    const result = setupGit(Vault.fromEnv(), {node: process.execPath, cli: path.join(packageRoot(), 'bin', 'run.js')})
    this.log(renderGitSetup(result))
    return result
  }
}

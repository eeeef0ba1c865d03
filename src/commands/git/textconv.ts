import {Args} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import {textconvFile} from '../../vault/git/record-text'

/** git's textconv driver (set by "aivault git setup"); bin/run.js answers it without loading oclif. */
export default class GitTextconv extends AivaultCommand {
  static hidden = true

  static summary = 'Print the readable form of a vault file for git diff (used by the driver "aivault git setup" configures).'

  static args = {
    file: Args.string({description: 'The file git hands the driver.', required: true}),
  }

  async run(): Promise<void> {
    const {args} = await this.parse(GitTextconv)
    process.stdout.write(textconvFile(args.file))
  }
}

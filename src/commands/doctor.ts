import {Flags} from '@oclif/core'

import {AivaultCommand} from '../base-command'
import {registryCatalog} from '../plugins/runtime'
import {progressReporter} from '../render/progress'
import {renderDoctor} from '../render/vault'
import type {DoctorReport} from '../vault/doctor/doctor'
import {runDoctor} from '../vault/doctor/doctor'
import {Vault} from '../vault/vault'

export default class Doctor extends AivaultCommand {
  static summary = 'Check that every record opens, permissions, temp files, what a git merge left and the audit chain.'

  static description =
    'Exits 1 when it finds problems it did not fix. --fix repairs what is safe: permissions, leftover temp files, an interrupted rotate-master. What a git merge leaves (conflicted or unmerged records, two secrets with one name or alias in a scope, credentials and bindings whose secret is gone) is explained with the one command that fixes it.'

  static examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --fix']

  static flags = {
    fix: Flags.boolean({description: 'Repair what is safe to repair.'}),
  }

  async run(): Promise<DoctorReport> {
    const {flags} = await this.parse(Doctor)
    const progress = progressReporter('Opening records')
    const report = await runDoctor(Vault.fromEnv(), {fix: flags.fix, onProgress: progress.update, catalog: registryCatalog()})
    progress.done()
    this.log(renderDoctor(report))
    if (!report.ok) process.exitCode = 1
    return report
  }
}

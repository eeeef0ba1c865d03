import {Flags} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import {parseDotenv} from '../../cli/dotenv'
import {parseScope, readTextFile, scopeFlags, splitKeyValue} from '../../cli/flags'
import {usageError} from '../../errors'
import {registryCatalog} from '../../plugins/runtime'
import {progressReporter} from '../../render/progress'
import {renderImport} from '../../render/secrets'
import {isValidName} from '../../vault/names'
import type {ImportResult} from '../../vault/secrets-service'
import {importSecrets} from '../../vault/secrets-service'
import {sealingVault} from '../../cli/vault-access'

export default class SecretsImport extends AivaultCommand {
  static summary = 'Import many secrets: each entry is created, or rotated when its name exists in the scope.'

  static examples = ['<%= config.bin %> secrets import --from-env-file .env', '<%= config.bin %> secrets import --entry GITHUB_TOKEN=ghp_... --entry X=y']

  static flags = {
    entry: Flags.string({description: 'NAME=VALUE (repeatable).', multiple: true, exclusive: ['from-env-file']}),
    'from-env-file': Flags.string({description: 'Read entries from a dotenv file.'}),
    ...scopeFlags,
  }

  async run(): Promise<Omit<ImportResult, 'provisioned' | 'pinned'>> {
    const {flags} = await this.parse(SecretsImport)
    if (!flags.entry && !flags['from-env-file']) throw usageError('nothing to import', 'pass --entry NAME=VALUE or --from-env-file FILE')
    const scope = parseScope(flags)
    const raw = flags.entry
      ? flags.entry.map((e, i) => splitKeyValue(e, '--entry', i + 1)).map(([name, value]) => ({name, value}))
      : parseDotenv(readTextFile(flags['from-env-file'] as string, '--from-env-file'), flags['from-env-file'] as string)
    const invalid = raw.filter((e) => !isValidName('secret', e.name)).map((e) => ({name: e.name, reason: 'invalid secret name'}))
    const entries = raw.filter((e) => isValidName('secret', e.name)).map((e) => ({name: e.name, value: new Uint8Array(Buffer.from(e.value, 'utf8'))}))
    const progress = progressReporter('Importing')
    const result = await importSecrets(sealingVault(), registryCatalog(), entries, scope, progress.update)
    progress.done()
    result.skipped.unshift(...invalid)
    this.log(renderImport(result))
    return {created: result.created, rotated: result.rotated, skipped: result.skipped}
  }
}

import {Flags} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import {checkSecretName} from '../../cli/flags'
import type {SecretChangeJson} from '../../cli/secret-json'
import {secretChangeJson} from '../../cli/secret-json'
import {usageError} from '../../errors'
import {registryCatalog} from '../../plugins/runtime'
import {renderUpdated} from '../../render/secrets'
import {updateSecret} from '../../vault/secrets-service'
import {Vault} from '../../vault/vault'

export default class SecretsUpdate extends AivaultCommand {
  static summary = 'Rename a secret or change its aliases (never its value; see "secrets rotate").'

  static examples = ['<%= config.bin %> secrets update --id <id> --alias OPENAI_KEY', '<%= config.bin %> secrets update --id <id> --clear-aliases']

  static flags = {
    id: Flags.string({description: 'Secret id.', required: true}),
    name: Flags.string({description: 'New name.'}),
    alias: Flags.string({description: 'Add an alias (repeatable).', multiple: true}),
    'clear-aliases': Flags.boolean({description: 'Remove all aliases (before adding any --alias).'}),
  }

  async run(): Promise<SecretChangeJson> {
    const {flags} = await this.parse(SecretsUpdate)
    if (flags.name === undefined && flags.alias === undefined && !flags['clear-aliases']) {
      throw usageError('nothing to update', 'pass --name, --alias or --clear-aliases')
    }
    const name = flags.name === undefined ? undefined : checkSecretName(flags.name)
    const aliases = flags.alias?.map((a) => checkSecretName(a, '--alias'))
    const catalog = registryCatalog()
    const result = await updateSecret(Vault.fromEnv(), catalog, {id: flags.id, name, aliases, clearAliases: flags['clear-aliases']})
    this.log(renderUpdated(result))
    return secretChangeJson(result, catalog)
  }
}

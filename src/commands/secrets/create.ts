import {Flags} from '@oclif/core'

import {AivaultCommand} from '../../base-command'
import {checkSecretNames, parseScope, readValue, requireOneValueFlag, scopeFlags, valueFlags} from '../../cli/flags'
import type {SecretChangeJson} from '../../cli/secret-json'
import {secretChangeJson} from '../../cli/secret-json'
import {registryCatalog} from '../../plugins/runtime'
import {renderCreated} from '../../render/secrets'
import {createSecret} from '../../vault/secrets-service'
import {sealingVault} from '../../cli/vault-access'

export default class SecretsCreate extends AivaultCommand {
  static summary = 'Store a new secret, sealed; a name a provider claims pins it and provisions its credential.'

  static examples = [
    'printf %s "$OPENAI_API_KEY" | <%= config.bin %> secrets create --name OPENAI_API_KEY --value-stdin',
    '<%= config.bin %> secrets create --name MY_TOKEN --value-file ./token.txt --scope workspace --workspace-id team',
  ]

  static flags = {
    name: Flags.string({description: 'Secret name ([A-Za-z_][A-Za-z0-9_.-]*).', required: true}),
    ...valueFlags,
    ...scopeFlags,
    alias: Flags.string({description: 'Another name for the secret (repeatable).', multiple: true}),
  }

  async run(): Promise<SecretChangeJson> {
    const {flags} = await this.parse(SecretsCreate)
    const {name, aliases} = checkSecretNames(flags.name, flags.alias ?? [])
    const scope = parseScope(flags)
    requireOneValueFlag(flags)
    const catalog = registryCatalog()
    const result = await createSecret(sealingVault(), catalog, {name, value: readValue(flags), scope, aliases})
    this.log(renderCreated(result))
    return secretChangeJson(result, catalog)
  }
}

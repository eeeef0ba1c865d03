import {AivaultCommand} from '../../base-command'
import {readValue, requireOneValueFlag, valueFlags} from '../../cli/flags'
import type {SecretChangeJson} from '../../cli/secret-json'
import {secretChangeJson} from '../../cli/secret-json'
import {parseSecretRef, secretRefFlags} from '../../cli/secret-ref'
import {registryCatalog} from '../../plugins/runtime'
import {renderRotated} from '../../render/secrets'
import {rotateSecret} from '../../vault/secrets-service'
import {sealingVault} from '../../cli/vault-access'

export default class SecretsRotate extends AivaultCommand {
  static summary = "Replace a secret's value (a fresh data key; valueVersion + 1)."

  static examples = ['<%= config.bin %> secrets rotate --name OPENAI_API_KEY --value-file ./new-key.txt']

  static flags = {...secretRefFlags, ...valueFlags}

  async run(): Promise<SecretChangeJson> {
    const {flags} = await this.parse(SecretsRotate)
    const ref = parseSecretRef(flags)
    requireOneValueFlag(flags)
    const catalog = registryCatalog()
    const result = await rotateSecret(sealingVault(), catalog, ref, readValue(flags))
    this.log(renderRotated(result))
    return secretChangeJson(result, catalog)
  }
}

import {Flags} from '@oclif/core'

import {AivaultCommand} from '../base-command'
import {readInputFile} from '../cli/flags'
import {usageError} from '../errors'
import {renderInit} from '../render/vault'
import {RECIPIENT_NAME} from '../vault/keys/key-providers/recipients'
import type {InitResult} from '../vault/init'
import {initVault} from '../vault/init'
import {Vault} from '../vault/vault'

export default class Init extends AivaultCommand {
  static summary = 'Create a vault (refuses to touch an existing one).'

  static description = `The vault folder (AIVAULT_DIR, default ~/.aivault/data/vault) can be kept in git; the key never is.
file: a random key in a 0600 file under AIVAULT_KEYS_DIR (default ~/.aivault/keys), outside the vault folder.
env: the base64 key in an environment variable (default AIVAULT_KEY; make one with "aivault keygen").
passphrase: a key derived with Argon2id; the vault stays locked until "aivault unlock".
recipients: the key sealed to each member's identity (a team vault in git); you are the first member, named --name (default: the OS user name); your identity (AIVAULT_IDENTITY, else ~/.aivault/identity.key) is created when missing.`

  static examples = [
    '<%= config.bin %> init',
    'AIVAULT_KEY=$(<%= config.bin %> keygen) <%= config.bin %> init --provider env',
    '<%= config.bin %> init --provider passphrase --passphrase-file ~/.vault-pass',
    '<%= config.bin %> init --provider recipients --name alice',
    '<%= config.bin %> init --testing',
  ]

  static flags = {
    provider: Flags.string({description: 'Where the master key lives.', options: ['file', 'env', 'passphrase', 'recipients'], default: 'file'}),
    'file-path': Flags.string({description: 'Key file path (file provider).'}),
    'env-var': Flags.string({description: 'Variable holding the key (env provider).', default: 'AIVAULT_KEY'}),
    passphrase: Flags.string({description: 'Passphrase (visible in the process list: prefer --passphrase-file).', exclusive: ['passphrase-file']}),
    'passphrase-file': Flags.string({description: 'Read the passphrase from this file.'}),
    name: Flags.string({description: 'Your name as the first recipient (recipients provider; default: the OS user name).'}),
    testing: Flags.boolean({description: 'Mark the vault as a test vault: test overrides (AIVAULT_DEV_*) are honoured only here.'}),
  }

  async run(): Promise<InitResult> {
    const {flags} = await this.parse(Init)
    const provider = flags.provider as 'file' | 'env' | 'passphrase' | 'recipients'
    if (flags['file-path'] && provider !== 'file') throw usageError('--file-path is for --provider file')
    if ((flags.passphrase || flags['passphrase-file']) && provider !== 'passphrase') throw usageError('--passphrase is for --provider passphrase')
    if (provider === 'passphrase' && !flags.passphrase && !flags['passphrase-file']) {
      throw usageError('--provider passphrase needs --passphrase or --passphrase-file')
    }
    if (flags.name !== undefined && provider !== 'recipients') throw usageError('--name is for --provider recipients')
    if (flags.name !== undefined && !RECIPIENT_NAME.test(flags.name)) throw usageError(`--name ${JSON.stringify(flags.name)} is not a valid recipient name`)
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(flags['env-var'])) throw usageError(`--env-var ${JSON.stringify(flags['env-var'])} is not a variable name`)
    const passphrase = flags['passphrase-file']
      ? readInputFile(flags['passphrase-file'], '--passphrase-file').toString('utf8').replace(/\r?\n$/, '')
      : flags.passphrase
    const vault = Vault.fromEnv()
    const result = await initVault(vault, {provider, filePath: flags['file-path'], envVar: flags['env-var'], passphrase, testing: flags.testing, name: flags.name})
    this.log(renderInit(result))
    return result
  }
}

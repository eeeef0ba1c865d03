import {AivaultCommand} from '../base-command'
import {renderStatus} from '../render/vault'
import {listRecordFiles} from '../vault/store/atomic-file'
import type {VaultStatus} from '../vault/status'
import {vaultStatus} from '../vault/status'
import {DaemonClient} from '../daemon/client'
import {daemonSocketPath} from '../daemon/socket-path'
import {Vault} from '../vault/vault'
import {loadRegistry} from '../plugins/runtime'

export default class Status extends AivaultCommand {
  static summary = 'Show the vault: key provider, lock state, key id, counts, daemon (never creates anything).'

  static examples = ['<%= config.bin %> status', '<%= config.bin %> status --json']

  async run(): Promise<VaultStatus> {
    await this.parse(Status)
    const vault = Vault.fromEnv()
    const socket = daemonSocketPath(vault.env)
    const client = await DaemonClient.connect(socket, 300)
    let unlocked = false
    if (client) {
      unlocked = await client.request<{locked: boolean}>('status').then((s) => !s.locked, () => false)
      client.close()
    }
    const status = vaultStatus(
      vault,
      () => listRecordFiles(vault.paths.capabilitiesDir).length,
      (providers) => {
        const registry = loadRegistry()
        return providers.reduce((sum, p) => sum + registry.capabilitiesOf(p).length, 0)
      },
      {running: client !== undefined, socket, unlocked},
    )
    this.log(renderStatus(status))
    return status
  }
}

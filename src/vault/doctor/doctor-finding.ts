/** One problem `aivault doctor` found (own module: the doctor's checks import it without a cycle). */
export interface DoctorFinding {
  check: 'vault' | 'keys' | 'records' | 'permissions' | 'temp-files' | 'conflicts' | 'links' | 'references' | 'names' | 'hosts' | 'audit' | 'rotation'
  file?: string
  problem: string
  fixed: boolean
  code?: string
  /** The one command that fixes it (for what a merge left behind), ready to paste into a shell. */
  fix?: string
  /** Reported, but not a fault of the vault (a locked vault whose records could not be opened). */
  warning?: boolean
}

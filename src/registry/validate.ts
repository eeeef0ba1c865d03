/**
 * Run-time validation of a provider definition (plugin registries), using the standalone
 * validator the build generated from the schema (no schema compilation at run time), then
 * the per-provider rules of ./rules. Cross-provider rules (ids, claimed secret names) are
 * for the caller: see checkRegistry in ./rules.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import {AivaultError} from '../errors'
import {packageRoot} from '../package-root'
import {checkProvider, issuesFromSchemaErrors, SchemaError} from './rules'
import {ProviderDef, RegistryIssue} from './types'

export const PROVIDER_VALIDATOR = path.join(packageRoot(), 'dist', 'registry', 'provider-validator.js')

type StandaloneValidate = ((data: unknown) => boolean) & {errors?: SchemaError[] | null}

let validator: StandaloneValidate | undefined

function schemaValidator(): StandaloneValidate {
  if (!validator) {
    if (!fs.existsSync(PROVIDER_VALIDATOR)) {
      throw new AivaultError('vault_tampered', `registry validator missing: ${PROVIDER_VALIDATOR}`, {hint: 'reinstall aivault or run npm run build'})
    }
    validator = require(PROVIDER_VALIDATOR) as StandaloneValidate
  }
  return validator
}

/**
 * Schema and rules for one provider document. `file` names it in issues; `fileName` (base
 * name), when given, must be `<provider>.yaml`.
 */
export function validateProvider(file: string, data: unknown, fileName?: string): {def?: ProviderDef; issues: RegistryIssue[]} {
  const validate = schemaValidator()
  if (!validate(data)) return {issues: issuesFromSchemaErrors(file, validate.errors ?? [])}
  const def = data as ProviderDef
  const issues = checkProvider(file, def, fileName)
  return issues.length > 0 ? {issues} : {def, issues}
}

/** Parses one YAML document (duplicate keys are errors); YAML errors become issues of `file`. */
export function parseProviderYaml(text: string, file: string): {data?: unknown; issues: RegistryIssue[]} {
  const YAML = require('yaml') as typeof import('yaml')
  const doc = YAML.parseDocument(text, {uniqueKeys: true})
  const problems = [...doc.errors, ...doc.warnings]
  if (problems.length > 0) {
    return {issues: problems.map((e) => ({file, pointer: '', message: `invalid YAML: ${e.message.split('\n')[0]}`}))}
  }
  return {data: doc.toJS({maxAliasCount: 100}), issues: []}
}

/** Reads and validates a provider YAML file; `file` names it in issues (default: the path). */
export function validateProviderFile(filePath: string, file: string = filePath): {def?: ProviderDef; issues: RegistryIssue[]} {
  const parsed = parseProviderYaml(fs.readFileSync(filePath, 'utf8'), file)
  if (parsed.data === undefined) return {issues: parsed.issues}
  return validateProvider(file, parsed.data, path.basename(filePath))
}

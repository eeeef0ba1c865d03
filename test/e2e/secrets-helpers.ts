/** Shapes and shortcuts shared by the `aivault secrets` e2e tests (SPEC §3, §15). */
import * as assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {parse as parseYaml} from 'yaml'

import {assertCredentialShape, parseJson, REPO_ROOT, type TempVault} from './fixture'

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
export const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/
export const SECRET_FIELDS = ['id', 'name', 'aliases', 'scope', 'pinnedProvider', 'attachedGroups', 'systemManaged', 'valueVersion', 'createdAt', 'updatedAt']

/** The provider's capability count, read from the shipped registry file (SPEC §3: N). */
export function capabilityCount(provider: string): number {
  const doc = parseYaml(fs.readFileSync(path.join(REPO_ROOT, 'registry', `${provider}.yaml`), 'utf8'))
  return doc.capabilities.length
}

export function capabilitiesText(n: number): string {
  return n === 1 ? '1 capability' : `${n} capabilities`
}

export function lines(stdout: string): string[] {
  return stdout.replace(/\n$/, '').split('\n')
}

export function assertSecretShape(secret: any): void {
  const text = JSON.stringify(secret)
  for (const field of SECRET_FIELDS) assert.ok(field in secret, `secret lacks ${field}: ${text}`)
  assert.match(secret.id, UUID)
  assert.equal(typeof secret.name, 'string')
  assert.ok(Array.isArray(secret.aliases), text)
  assert.equal(typeof secret.scope?.type, 'string', text)
  assert.ok(secret.pinnedProvider === null || typeof secret.pinnedProvider === 'string', text)
  assert.ok(Array.isArray(secret.attachedGroups), text)
  assert.equal(typeof secret.systemManaged, 'boolean', text)
  assert.ok(Number.isInteger(secret.valueVersion) && secret.valueVersion >= 1, text)
  assert.match(secret.createdAt, ISO_UTC)
  assert.match(secret.updatedAt, ISO_UTC)
  assert.ok(!('sealed' in secret) && !('value' in secret), `metadata only: ${text}`)
}

/** `secrets create|rotate|update` JSON (SPEC §15). */
export function assertChangeShape(body: any): void {
  for (const field of ['secret', 'credential', 'waitingFor', 'capabilitiesEnabled']) assert.ok(field in body, `lacks ${field}: ${JSON.stringify(body)}`)
  assertSecretShape(body.secret)
  if (body.credential !== null) assertCredentialShape(body.credential)
  assert.ok(Array.isArray(body.waitingFor))
  assert.ok(Number.isInteger(body.capabilitiesEnabled))
}

export function secretFile(tv: TempVault, id: string): string {
  return path.join(tv.root, 'secrets', `${id}.yaml`)
}

export function listJson(tv: TempVault): any[] {
  const result = tv.run(['secrets', 'list', '--json'])
  assert.equal(result.status, 0, result.stderr)
  return parseJson(result).secrets
}

export function credentialsJson(tv: TempVault): any[] {
  const result = tv.run(['credential', 'list', '--json'])
  assert.equal(result.status, 0, result.stderr)
  return parseJson(result).credentials
}

export function createJson(tv: TempVault, args: string[], input?: string): any {
  const result = tv.run(['secrets', 'create', ...args, '--json'], input === undefined ? {} : {input})
  assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`)
  return parseJson(result)
}

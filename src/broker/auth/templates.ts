import {AivaultError} from '../../errors'
import type {AuthMaterial} from './types'

/**
 * Secret values by placeholder, widened with the string fields of a JSON secret: a custom
 * multi-header credential stores `{"api_key": "...", "app_key": "..."}` in one secret and its
 * templates name the fields.
 */
export function templateValues(material: AuthMaterial): Record<string, string> {
  const values: Record<string, string> = {}
  for (const raw of Object.values(material.values)) {
    const parsed = parseJsonObject(raw)
    if (parsed) for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') values[k] = v
  }
  return {...values, ...material.values}
}

export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  if (!text.trimStart().startsWith('{')) return undefined
  try {
    const value = JSON.parse(text)
    return value && typeof value === 'object' && !Array.isArray(value) ? value : undefined
  } catch {
    return undefined
  }
}

/** Fill `{{name}}` placeholders; a missing value fails closed without naming any secret content. */
export function renderTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_m, name: string) => {
    const value = values[name]
    if (value === undefined) throw new AivaultError('auth_failed', `the auth template needs {{${name}}}, which the credential does not provide`)
    return value
  })
}

/** The secret strings a rendered template used, for redaction. */
export function usedValues(template: string, values: Record<string, string>): string[] {
  const out: string[] = []
  template.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (m, name: string) => {
    if (values[name]) out.push(values[name])
    return m
  })
  return out
}

/**
 * Which spellings to scrub for one request (scrub.ts, spellings.ts), when they are not fixed
 * per route: auth applied per request, and error messages.
 */
import {templateValues} from '../auth/templates'
import type {RouteMaterial} from '../route'
import {spellingsWith} from '../route'
import {extendSpellings} from './scrub'

/**
 * For auth applied per request: the spellings of the material's values and of the first
 * request's derived values, and the list the last request used.
 */
const requestSpellingsOf = new WeakMap<RouteMaterial, {base: string[]; covered: Set<string>; redact: string; spellings: string[]}>()

/**
 * The spellings for auth applied per request: the same list again while the derived values are
 * (an OAuth token lasts an hour), else the base list extended with the new ones (a SigV4
 * signature), so scrubbing reuses what it built for the base (scrub.ts).
 */
export function requestSpellings(material: RouteMaterial, redact: string[]): string[] {
  const key = redact.join('\0')
  let known = requestSpellingsOf.get(material)
  if (known?.redact === key) return known.spellings
  if (known) {
    const {covered} = known
    known = {...known, redact: key, spellings: extendSpellings(known.base, redact.filter((value) => !covered.has(value)))}
  } else {
    const values = Object.values(material.values.values)
    const base = spellingsWith(values, redact)
    known = {base, covered: new Set([...values, ...redact]), redact: key, spellings: base}
  }
  requestSpellingsOf.set(material, known)
  return known.spellings
}

/**
 * What an error message must not show: the request's spellings and, for a failure before auth
 * was applied (a token endpoint's answer), every secret value and string field of a JSON secret.
 */
export function errorSpellings(material: RouteMaterial | undefined, spellings: string[] | undefined): string[] {
  if (!material) return spellings ?? []
  let known = materialSpellingsOf.get(material)
  if (!known) {
    known = spellingsWith(Object.values(templateValues(material.values)), [])
    materialSpellingsOf.set(material, known)
  }
  return spellings ? [...new Set([...spellings, ...known])].sort((a, b) => b.length - a.length) : known
}

const materialSpellingsOf = new WeakMap<RouteMaterial, string[]>()

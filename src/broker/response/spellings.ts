/**
 * The spellings of a secret that the scrubber (scrub.ts) replaces wherever a caller could see
 * them: response bodies and headers, the planned request, error messages. Computed once per
 * route (route.ts), or per request for auth that signs each request.
 *
 * Covered, for each secret value and each value auth derived from it (a basic-auth token,
 * `user:pass`, the user name, OAuth tokens, a signature):
 * - the value as is;
 * - percent-encoded the ways URLs and forms do (encodeURIComponent, RFC 3986, form encoding
 *   with `+` for a space), with upper- or lower-case hex digits;
 * - JSON-escaped: the standard escapes, and the `\uXXXX` escapes of Python and PHP (non-ASCII),
 *   Go (`< > &`), Gson (`< > & ' =`) and .NET (`< > & ' + \` "` and non-ASCII, upper-case hex),
 *   each also with `/` as `\/`;
 * - base64 and base64url, standalone or anywhere inside a longer base64 string (the three
 *   byte alignments); at a value's two ends the base64 characters that mix its bits with
 *   its neighbours' (at most 4 bits of the value each) are left in place;
 * - hex, lower- or upper-case;
 * - any of these inside a gzip, deflate or br body (the pipeline decodes Content-Encoding and
 *   Transfer-Encoding before scrubbing).
 *
 * NOT covered (the broker cannot know them; docs/security.md repeats this list):
 * - hashes, HMACs, encryption or any other function of the value;
 * - encodings applied on top of each other (base64 then percent-encoded, hex of base64, JSON
 *   escapes inside a percent-encoded string...), except base64url;
 * - mixed-case hex or percent escapes within one echo, or a JSON encoder escaping another set
 *   of characters than those listed above;
 * - partial echoes: a prefix, a suffix, a value cut by inserted characters (line-wrapped
 *   base64 such as MIME's 76 columns, chunked display like `sk-…1234`);
 * - other encodings: base32, base58, quoted-printable, HTML or XML character references,
 *   UTF-16, punycode, ...;
 * - compressed data inside a payload (a zip or image body, a compressed field) and
 *   content codings other than gzip, deflate and br (the broker refuses those bodies);
 * - values shorter than 4 characters, and encoded forms shorter than 8.
 */
import {encodeRfc3986} from '../request/path'

/** Shorter values are not scrubbed: they would mangle ordinary text. */
const MIN_VALUE_LENGTH = 4
/** Nor are encoded forms shorter than this (a 4-character value's base64 core). */
const MIN_ENCODED_LENGTH = 8

/** Values made only of these characters have no percent-encoded or JSON-escaped spelling of their own. */
const PLAIN = /^[A-Za-z0-9_.-]*$/

/** The spellings of each secret worth scrubbing, longest first (scrubText replaces them in order). */
export function secretSpellings(secrets: string[]): string[] {
  const out = new Set<string>()
  const seen = new Set<string>()
  for (const secret of secrets) {
    if (secret.length < MIN_VALUE_LENGTH || seen.has(secret)) continue
    seen.add(secret)
    out.add(secret)
    if (!PLAIN.test(secret)) {
      for (const spelling of percentEncodings(secret)) out.add(spelling)
      for (const spelling of jsonEscapes(secret)) out.add(spelling)
    }
    for (const spelling of byteEncodings(secret)) if (spelling.length >= MIN_ENCODED_LENGTH) out.add(spelling)
  }
  return [...out].sort((a, b) => b.length - a.length)
}

function percentEncodings(secret: string): string[] {
  const rfc3986 = encodeRfc3986(secret)
  const component = rfc3986.replace(/%(21|27|28|29|2A)/g, (escape) => decodeURIComponent(escape))
  const form = rfc3986.replace(/%2A/g, '*').replace(/~/g, '%7E').replace(/%20/g, '+')
  const upper = [component, rfc3986, form]
  return [...upper, ...upper.map((s) => s.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()))]
}

const SHORT_ESCAPES: Record<string, string> = {'"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t'}
/** What every JSON encoder escapes: control characters, `"`, `\` and lone surrogates. */
const ALWAYS_ESCAPED = '[\\u0000-\\u001f"\\\\]|[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]'

/** The characters JSON encoders commonly write as `\uXXXX`, and the case of their hex digits. */
const UNICODE_STYLES = [
  {chars: '[\\u0080-\\uffff]', upper: false}, // Python (ensure_ascii), PHP
  {chars: '[<>&\\u2028\\u2029]', upper: false}, // Go, Rails
  {chars: "[<>&'=]", upper: false}, // Gson
  {chars: '[<>&\'+`"]|[\\u007f-\\uffff]', upper: true}, // .NET System.Text.Json
].map(({chars, upper}) => ({escaped: new RegExp(chars), all: new RegExp(`${chars}|${ALWAYS_ESCAPED}`, 'g'), upper}))

function jsonEscapes(secret: string): string[] {
  const variants = [JSON.stringify(secret).slice(1, -1)]
  for (const style of UNICODE_STYLES) {
    if (!style.escaped.test(secret)) continue // the same as the standard escapes
    variants.push(secret.replace(style.all, (c) => (style.escaped.test(c) ? unicodeEscapes(c, style.upper) : (SHORT_ESCAPES[c] ?? unicodeEscapes(c, false)))))
  }
  // PHP (by default) and some Java encoders also write `/` as `\/`.
  return [...variants, ...variants.filter((v) => v.includes('/')).map((v) => v.replace(/\//g, '\\/'))]
}

function unicodeEscapes(text: string, upper: boolean): string {
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const hex = text.charCodeAt(i).toString(16).padStart(4, '0')
    out += `\\u${upper ? hex.toUpperCase() : hex}`
  }
  return out
}

/** Hex in both cases, and the base64 and base64url cores of the three alignments. */
function byteEncodings(secret: string): string[] {
  // The value's bytes after two filler bytes: from offset 2, 1 and 0 they sit at the three alignments.
  const n = Buffer.byteLength(secret)
  const padded = Buffer.allocUnsafe(n + 2)
  padded[0] = 0
  padded[1] = 0
  padded.write(secret, 2)
  const hex = padded.toString('hex', 2)
  const out = [hex, hex.toUpperCase()]
  for (let shift = 0; shift < 3; shift++) {
    // The characters whose 6 bits all come from the value: after the `shift` filler bytes, before its end.
    const core = padded.toString('base64', 2 - shift).slice(Math.ceil((8 * shift) / 6), Math.floor((8 * (n + shift)) / 6))
    out.push(core)
    if (core.includes('+') || core.includes('/')) out.push(core.replace(/\+/g, '-').replace(/\//g, '_'))
  }
  return out
}

'use strict'
/**
 * aivault:after-invoke: sees the sanitized response (secrets already scrubbed) and may change
 * `response.body` in place. This one removes the `internalNotes` field from its provider's JSON
 * answers, so an agent never reads what the API keeps for staff.
 *
 * @param {import('aivault/dist/plugins/hooks').AfterInvokePayload} payload
 */
module.exports = async function afterInvoke(payload) {
  if (payload.capability.provider !== 'example') return
  const type = payload.response.headers.find(([name]) => name === 'content-type')
  if (!type || !type[1].includes('json')) return
  let data
  try {
    data = JSON.parse(payload.response.body.toString('utf8'))
  } catch {
    return
  }
  payload.response.body = Buffer.from(JSON.stringify(redact(data)))
}

function redact(value) {
  if (Array.isArray(value)) return value.map(redact)
  if (value === null || typeof value !== 'object') return value
  const out = {}
  for (const [key, field] of Object.entries(value)) if (key !== 'internalNotes') out[key] = redact(field)
  return out
}

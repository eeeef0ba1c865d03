'use strict'
/**
 * aivault:before-invoke: runs before every invocation, with the request as the caller sent it
 * (never with auth). It may add or change non-auth headers in place, or refuse by throwing.
 * This one tags requests to its own provider; it leaves every other provider alone.
 *
 * @param {import('aivault/dist/plugins/hooks').BeforeInvokePayload} payload
 */
module.exports = async function beforeInvoke(payload) {
  if (payload.capability.provider !== 'example') return
  if (payload.request.method === 'POST' && payload.request.body.length === 0) {
    throw new Error('example/items needs a JSON body for POST')
  }
  payload.request.headers.push({name: 'x-example-client', value: `aivault-plugin-example (${payload.capability.id})`})
}

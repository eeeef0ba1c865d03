'use strict'
/** A small HTTPS upstream for the serve benchmark: prints `port caPath` on stdout, answers JSON. */
const fs = require('node:fs')
const https = require('node:https')
const os = require('node:os')
const path = require('node:path')

async function main() {
  const selfsigned = require('selfsigned')
  const pems = await selfsigned.generate([{name: 'commonName', value: 'api.openai.com'}], {keyType: 'ec', algorithm: 'sha256', days: 1, extensions: [{name: 'subjectAltName', altNames: [{type: 2, value: 'api.openai.com'}]}]})
  const caPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-bench-ca-')), 'ca.pem')
  fs.writeFileSync(caPath, pems.cert)
  const body = '{"object":"list","data":[{"id":"gpt-bench","object":"model"}]}'
  const server = https.createServer({key: pems.private, cert: pems.cert, keepAlive: true}, (req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, {'content-type': 'application/json', 'content-length': Buffer.byteLength(body)})
      res.end(body)
    })
  })
  server.keepAliveTimeout = 60_000
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port} ${caPath}\n`))
}

main()

'use strict'
/**
 * The floor for any Node reverse proxy: a bare HTTP server that forwards every request to the
 * HTTPS upstream through an undici Pool and adds one header. Usage: node undici-proxy.js UPSTREAM_PORT CA_PATH
 */
const fs = require('node:fs')
const http = require('node:http')
const {Pool} = require('undici')

const [port, caPath] = process.argv.slice(2)
const pool = new Pool(`https://127.0.0.1:${port}`, {connections: 64, connect: {servername: 'api.openai.com', ca: fs.readFileSync(caPath, 'utf8')}})

const server = http.createServer(async (req, res) => {
  try {
    const headers = {...req.headers, authorization: 'Bearer sk-bench-key', host: 'api.openai.com'}
    const upstream = await pool.request({method: req.method, path: req.url, headers, body: req.method === 'GET' || req.method === 'HEAD' ? undefined : req})
    res.writeHead(upstream.statusCode, upstream.headers)
    upstream.body.pipe(res)
  } catch {
    res.writeHead(502)
    res.end()
  }
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`))

'use strict'
/**
 * `aivault serve` throughput (part of npm run bench): requests/s and p50/p99 latency at
 * concurrency 1 and 32 for the same HTTPS upstream reached directly, through a bare undici
 * proxy (bench/undici-proxy.js, the floor for any Node proxy) and through `aivault serve`.
 */
const {spawn, spawnSync} = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const CLI = path.join(__dirname, '..', 'bin', 'run.js')

function startChild(args, env, pattern) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {env, stdio: ['ignore', 'pipe', 'pipe']})
    let seen = ''
    const onData = (d) => {
      seen += d
      const match = pattern.exec(seen)
      if (match) resolve({child, match})
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${seen}`)))
  })
}

/** nginx with proxy_set_header Authorization, when nginx is installed (apt-get install nginx). */
async function startNginx(upstreamPort, caPath, base) {
  const bin = ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx'].find((p) => fs.existsSync(p))
  if (!bin) return undefined
  const port = await new Promise((resolve) => {
    const probe = require('node:net').createServer().listen(0, '127.0.0.1', () => {
      const {port: free} = probe.address()
      probe.close(() => resolve(free))
    })
  })
  const prefix = path.join(base, 'nginx')
  fs.mkdirSync(path.join(prefix, 'logs'), {recursive: true})
  const conf = path.join(prefix, 'nginx.conf')
  fs.writeFileSync(conf, `daemon off;
worker_processes 2;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log error;
events { worker_connections 1024; }
http {
  access_log off;
  upstream api { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass https://api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host api.openai.com;
      proxy_set_header Authorization "Bearer sk-bench-key";
      proxy_ssl_server_name on;
      proxy_ssl_name api.openai.com;
      proxy_ssl_trusted_certificate ${caPath};
      proxy_ssl_verify on;
      proxy_ssl_session_reuse on;
    }
  }
}
`)
  const child = spawn(bin, ['-p', prefix, '-c', conf], {stdio: 'ignore'})
  await new Promise((r) => setTimeout(r, 300))
  return {child, port}
}

/**
 * CPU time (user + system, µs) used so far by a process and its children (serve's workers,
 * nginx's workers), from /proc; undefined where there is no /proc. On a shared machine the
 * CPU each proxy spends per request is steadier than its throughput.
 */
function cpuMicros(pid) {
  if (!fs.existsSync(`/proc/${pid}/stat`)) return undefined
  const of = (p) => {
    try {
      const fields = fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')
      return (Number(fields[11]) + Number(fields[12])) * (1e6 / 100)
    } catch {
      return 0
    }
  }
  let children = []
  try {
    children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)
  } catch {
    /* no children list: the process alone */
  }
  return [pid, ...children].reduce((sum, p) => sum + of(p), 0)
}

/** wrk's path when it is installed (`apt-get install wrk`); AIVAULT_BENCH_LOAD=autocannon forces autocannon. */
function findWrk() {
  if (process.env.AIVAULT_BENCH_LOAD === 'autocannon') return undefined
  return ['/usr/bin/wrk', '/usr/local/bin/wrk'].find((p) => fs.existsSync(p))
}

const WRK = findWrk()

/** A duration in wrk's units (`1.23ms`, `850.00us`, `1.02s`) in milliseconds. */
function wrkMillis(text) {
  const [, value, unit] = /^([\d.]+)(us|ms|s|m)$/.exec(text) ?? []
  return Number(value) * {us: 1e-3, ms: 1, s: 1e3, m: 60e3}[unit]
}

/**
 * One load run, as {requests: {average, total}, latency: {p50, p99}, non2xx}. wrk (C, one
 * thread) when installed: on a 2-core machine the load generator shares the cores with the
 * proxies, and autocannon (Node) spends several times wrk's CPU on each request.
 */
function load(options) {
  if (!WRK) {
    const autocannon = require('autocannon')
    return new Promise((resolve, reject) => autocannon(options, (error, result) => (error ? reject(error) : resolve(result))))
  }
  const headers = Object.entries(options.headers ?? {}).flatMap(([name, value]) => ['-H', `${name}: ${value}`])
  const run = spawnSync(WRK, ['-t1', `-c${options.connections}`, `-d${options.duration}s`, '--latency', ...headers, options.url], {encoding: 'utf8'})
  if (run.status !== 0) throw new Error(`wrk failed: ${run.stderr || run.stdout}`)
  const out = run.stdout
  const total = Number(/(\d+) requests in/.exec(out)?.[1])
  return {
    requests: {average: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]), total},
    latency: {p50: wrkMillis(/ 50%\s+(\S+)/.exec(out)?.[1] ?? ''), p99: wrkMillis(/ 99%\s+(\S+)/.exec(out)?.[1] ?? '')},
    // Failed connections and timeouts count as failed answers too.
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) + (/Socket errors: (.*)/.exec(out)?.[1].match(/\d+/g) ?? []).reduce((sum, n) => sum + Number(n), 0),
  }
}

async function main(quick = process.argv.includes('--quick')) {
  const duration = 1
  const upstream = await startChild([path.join(__dirname, 'upstream-server.js')], process.env, /^(\d+) (\S+)\n/)
  const [, upstreamPort, caPath] = upstream.match
  const proxy = await startChild([path.join(__dirname, 'undici-proxy.js'), upstreamPort, caPath], process.env, /^(\d+)\n/)
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-bench-serve-'))
  const env = {
    ...process.env,
    HOME: base,
    AIVAULT_DIR: path.join(base, 'vault'),
    AIVAULT_KEYS_DIR: path.join(base, 'keys'),
    ...(process.env.AIVAULT_BENCH_NO_AUDIT === '1' ? {AIVAULT_DISABLE_DISK_LOGS: '1'} : {}),
    AIVAULT_DEV_RESOLVE: `api.openai.com=127.0.0.1:${upstreamPort}`,
    AIVAULT_DEV_CA_CERT_PATH: caPath,
    AIVAULT_DEV_ALLOW_PRIVATE_UPSTREAMS: '1',
  }
  spawnSync(process.execPath, [CLI, 'init', '--testing'], {env})
  spawnSync(process.execPath, [CLI, 'secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin'], {env, input: 'sk-bench-key-0123456789'})
  const token = JSON.parse(spawnSync(process.execPath, [CLI, 'token', 'mint', '--capability', 'openai/models', '--ttl', '1h', '--json'], {env}).stdout).token
  // One worker, and one per core as nginx runs (a cluster is the lever the issue names). On
  // 2 cores the load generator and the upstream share those cores with the workers, so the
  // second worker adds less than a core. AIVAULT_BENCH_WORKERS=1,2 (a list) overrides.
  const cores = Math.min(4, os.availableParallelism())
  const workerCounts = (process.env.AIVAULT_BENCH_WORKERS ?? (cores > 1 ? `1,${cores}` : '1')).split(',')
  const serves = []
  for (const workers of workerCounts) serves.push({workers, ...(await startChild([CLI, 'serve', '--port', '0', '--workers', workers], env, /listening on http:\/\/127\.0\.0\.1:(\d+)/))})
  const nginx = await startNginx(upstreamPort, caPath, base)
  const undiciName = 'bare undici proxy (+1 header)'
  const nginxName = nginx ? 'nginx (proxy_set_header Authorization)' : undefined
  const servedNames = serves.map((serve) => `aivault serve /v/openai (${serve.workers} workers)`)
  // The undici proxy runs right before (and, in reversed rounds, right after) the first serve:
  // the pair a ratio compares is measured a second apart, not several.
  const targets = [
    ['direct (HTTPS upstream)', {url: `https://127.0.0.1:${upstreamPort}/v1/models`, servername: 'api.openai.com', headers: {host: 'api.openai.com', authorization: 'Bearer sk-bench-key'}}],
    ...(nginx ? [[nginxName, {url: `http://127.0.0.1:${nginx.port}/v1/models`}]] : []),
    [undiciName, {url: `http://127.0.0.1:${proxy.match[1]}/v1/models`}],
    ...serves.map((serve, i) => [servedNames[i], {url: `http://127.0.0.1:${serve.match[1]}/v/openai/v1/models`, headers: {authorization: `Bearer ${token}`}}]),
  ]
  const pidOf = {[undiciName]: proxy.child.pid, ...(nginx ? {[nginxName]: nginx.child.pid} : {})}
  serves.forEach((serve, i) => (pidOf[servedNames[i]] = serve.child.pid))
  // Many short interleaved rounds, medians: throughput on a shared machine drifts (here by ±40%
  // within a minute), and measuring each target once, one after the other, put that drift
  // into the ratios (15 rounds of 1 s gave steadier ratios than 3 of 4 s or 7 of 2 s). Every other round runs the targets in reverse order, so that a steady
  // drift favours none of them.
  const rounds = quick ? 1 : 15
  const rows = []
  const results = {}
  const median = (values) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)]
  /** A median with the range of the values it is taken over (every round's), as `1.23× (1.10–1.41)`. */
  const withRange = (values, digits, unit) => {
    const text = (v) => v.toFixed(digits)
    const spread = values.length > 1 ? ` (${text(Math.min(...values))}–${text(Math.max(...values))})` : ''
    return `${text(median(values))}${unit}${spread}`
  }
  // Every worker of a cluster gets warm connections before anything is measured (at c=1 a
  // round's one connection may go to either worker).
  for (const [, options] of targets) await load({...options, connections: 32, duration: 2})
  for (const connections of [1, 32]) {
    const seen = Object.fromEntries(targets.map(([name]) => [name, []]))
    for (const [, options] of targets) await load({...options, connections, duration: 1}) // warm-up
    for (let round = 0; round < rounds; round++) {
      for (const [name, options] of round % 2 === 0 ? targets : targets.slice().reverse()) {
        const pid = pidOf[name]
        const cpuBefore = pid && cpuMicros(pid)
        const result = await load({...options, connections, duration})
        const cpuPerRequest = cpuBefore === undefined || !pid ? undefined : (cpuMicros(pid) - cpuBefore) / result.requests.total
        seen[name].push({result, cpuPerRequest})
      }
    }
    for (const [name] of targets) {
      const runs = seen[name]
      const rates = runs.map((r) => r.result.requests.average)
      const cpus = runs.map((r) => r.cpuPerRequest).filter((c) => c !== undefined)
      results[`${name}@${connections}`] = rates
      if (cpus.length === runs.length) results[`${name}@${connections}:cpu`] = cpus
      // (Rounded: wrk's units converted to ms carry float noise such as 0.41100000000000003.)
      const p50 = Number(median(runs.map((r) => r.result.latency.p50)).toPrecision(3))
      const p99 = Number(median(runs.map((r) => r.result.latency.p99)).toPrecision(3))
      const non2xx = runs.reduce((sum, r) => sum + r.result.non2xx, 0)
      const cpuNote = cpus.length === 0 ? '' : `${withRange(cpus, 0, ' µs')} CPU/request`
      rows.push([`${name}, c=${connections}`, `${withRange(rates, 0, ' req/s')}`, `p50 ${p50} ms, p99 ${p99} ms`, [cpuNote, non2xx ? `${non2xx} non-2xx!` : ''].filter(Boolean).join('; ')])
    }
  }
  // Each round's ratio compares runs made seconds apart; the median of those is reported, with their range.
  const perRound = (key, otherKey) => results[key] && results[otherKey] && results[key].map((value, round) => value / results[otherKey][round])
  for (const c of [1, 32]) {
    const cpuRatio = nginx && perRound(`${undiciName}@${c}:cpu`, `${nginxName}@${c}:cpu`)
    if (cpuRatio) rows.push([`bare undici proxy CPU per request ÷ nginx's, c=${c}`, withRange(cpuRatio, 2, '×'), '', 'undici request() and pipe'])
  }
  for (const served of servedNames) {
    const label = servedNames.length > 1 ? served.replace('/v/openai ', '') : 'aivault serve'
    for (const c of [1, 32]) {
      rows.push([`${label} ÷ bare undici proxy, c=${c}`, withRange(perRound(`${served}@${c}`, `${undiciName}@${c}`), 2, '×'), '', c === 32 ? '≥ 0.9×' : ''])
      const cpuUndici = perRound(`${served}@${c}:cpu`, `${undiciName}@${c}:cpu`)
      if (cpuUndici) rows.push([`${label} CPU per request ÷ bare undici proxy's, c=${c}`, withRange(cpuUndici, 2, '×'), '', 'lower is better'])
      if (nginx) {
        rows.push([`${label} ÷ nginx, c=${c}`, withRange(perRound(`${served}@${c}`, `${nginxName}@${c}`), 2, '×'), '', c === 32 ? '≥ 0.5×' : ''])
        const cpuNginx = perRound(`${served}@${c}:cpu`, `${nginxName}@${c}:cpu`)
        if (cpuNginx) rows.push([`${label} CPU per request ÷ nginx's, c=${c}`, withRange(cpuNginx, 2, '×'), '', c === 32 ? '≤ 2.5×' : ''])
      }
    }
  }
  await Promise.all([...serves.map((serve) => serve.child), proxy.child, upstream.child, ...(nginx ? [nginx.child] : [])].map((child) => new Promise((resolve) => {
    child.removeAllListeners('exit')
    child.once('exit', resolve)
    child.kill()
  })))
  fs.rmSync(base, {recursive: true, force: true})
  // serve's own work alone (bench/serve-own-work.js): steadier than the difference of two noisy end-to-end rows.
  const own = spawnSync(process.execPath, [path.join(__dirname, 'serve-own-work.js'), quick ? '10000' : '50000', quick ? '3' : '5'], {encoding: 'utf8'})
  if (own.status === 0) {
    const {perRequestMicros} = JSON.parse(own.stdout)
    rows.push(['aivault serve own work per request (one process, no sockets)', withRange(perRequestMicros, 1, ' µs CPU'), '', 'token, route, headers, scrub, relay, audit'])
  } else {
    rows.push(['aivault serve own work per request (one process, no sockets)', 'failed', '', own.stderr.trim().split('\n')[0] ?? ''])
  }
  return rows
}

module.exports = {main}

if (require.main === module) {
  main().then((rows) => console.log(['| measurement | throughput | latency | note |', '|---|---|---|---|', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n')))
}

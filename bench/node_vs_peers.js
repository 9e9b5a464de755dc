#!/usr/bin/env node
// goldplan (Node addon) against wechatpay-axios-plugin and wechatpay-node-v3, in one run,
// against ONE sandbox process (state on disk, as a new user runs it).
//
//   (cd bench/node && npm ci)                      # the peers, pinned (never goldplan's deps)
//   GOLDPLAN_NODE_RELEASE=1 bindings/node/scripts/build.sh
//   cargo build --release -p goldplan-sandbox --bin goldplan-sandbox
//   node bench/node_vs_peers.js [--seconds 5] [--inflight 16] [--rounds 3] [--sandbox PATH]
//
// Every SDK calls 点金计划管理 (POST /v3/goldplan/merchants/changegoldplanstatus, OPEN:
// idempotent, 200 with a JSON body) sequentially and with N calls in flight, in alternating
// rounds (median reported). "CPU per call" is this process's CPU time (`process.cpuUsage()`,
// user + system, every thread: the addon's own threads included) divided by the calls: the
// client's cost, since the sandbox is another process.
//
// Verification: goldplan and the axios plugin verify every response (checked first: an
// injected bad signature must be refused). wechatpay-node-v3 cannot: its HTTP layer returns
// only `{ status, data }`, dropping the Wechatpay-* headers, so no response is verified.
'use strict'

const { spawn } = require('node:child_process')
const { mkdtempSync, readFileSync } = require('node:fs')
const { tmpdir } = require('node:os')
const path = require('node:path')
const readline = require('node:readline')

const REPO = path.resolve(__dirname, '..')
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]])
  return acc
}, []))
const SECONDS = Number(args.seconds ?? 5)
const INFLIGHT = Number(args.inflight ?? 16)
const ROUNDS = Number(args.rounds ?? 3)
const SANDBOX = args.sandbox ?? process.env.GOLDPLAN_SANDBOX_BIN ??
  path.join(process.env.CARGO_TARGET_DIR ?? path.join(REPO, 'target'), 'release', 'goldplan-sandbox')

const peers = path.join(__dirname, 'node', 'node_modules')
const goldplan = require(path.join(REPO, 'bindings', 'node'))
const { Wechatpay } = require(path.join(peers, 'wechatpay-axios-plugin'))
const WxPay = require(path.join(peers, 'wechatpay-node-v3'))

const PATH = '/v3/goldplan/merchants/changegoldplanstatus'

async function startSandbox () {
  const state = mkdtempSync(path.join(tmpdir(), 'goldplan-bench-'))
  const child = spawn(SANDBOX, ['--state-dir', state, '--mode', 'public_key'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const first = await new Promise((resolve, reject) => {
    child.once('error', reject)
    readline.createInterface({ input: child.stdout }).once('line', resolve)
  })
  const baseUrl = first.trim()
  const info = JSON.parse(readFileSync(path.join(state, 'sandbox.json'), 'utf8'))
  return { child, baseUrl, info, state }
}

async function admin (sandbox, method, route, body) {
  const r = await fetch(`${sandbox.baseUrl}/sandbox${route}`, {
    method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body)
  })
  if (!r.ok) throw new Error(`admin ${route}: ${r.status} ${await r.text()}`)
}

function clients (sandbox) {
  const { info } = sandbox
  const sub = info.sub_mchids[0]
  const body = { sub_mchid: sub, operation_type: 'OPEN' }

  const ours = new goldplan.Client({
    mchid: info.mchid, serialNo: info.serial_no, privateKey: info.private_key_pem, apiv3Key: info.apiv3_key,
    publicKeyId: info.public_key_id, publicKey: info.public_key_pem, baseUrl: sandbox.baseUrl, maxAttempts: 1
  })
  const axiosPlugin = new Wechatpay({
    mchid: info.mchid, serial: info.serial_no, privateKey: info.private_key_pem,
    certs: { [info.public_key_id]: info.public_key_pem }, baseURL: sandbox.baseUrl
  })
  const nodeV3 = new WxPay({ appid: 'wx0000000000000000', mchid: info.mchid, serial_no: info.serial_no, publicKey: Buffer.from(info.certificate_pem), privateKey: Buffer.from(info.private_key_pem), key: info.apiv3_key })
  return {
    goldplan: () => ours.changeGoldPlanStatus(sub, 'OPEN'),
    'wechatpay-axios-plugin': () => axiosPlugin.v3.goldplan.merchants.changegoldplanstatus.post(body),
    'wechatpay-node-v3': async () => {
      // Its own request path: signature over the production URL's path, then its HTTP layer.
      const authorization = nodeV3.buildAuthorization('POST', `https://api.mch.weixin.qq.com${PATH}`, body)
      const headers = nodeV3.getHeaders(authorization, { 'Content-Type': 'application/json' })
      const r = await nodeV3.httpService.post(`${sandbox.baseUrl}${PATH}`, body, headers)
      if (r.status !== 200) throw new Error(`wechatpay-node-v3: HTTP ${r.status} ${r.error}`)
      return r
    }
  }
}

async function measure (call, inflight) {
  let calls = 0
  const end = performance.now() + SECONDS * 1000
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  async function lane () {
    while (performance.now() < end) {
      await call()
      calls++
    }
  }
  await Promise.all(Array.from({ length: inflight }, lane))
  const elapsed = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  return { rate: calls / elapsed, cpuPerCall: (cpu.user + cpu.system) / calls }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function main () {
  const sandbox = await startSandbox()
  try {
    const all = clients(sandbox)
    for (const [name, call] of Object.entries(all)) {
      for (let i = 0; i < 50; i++) await call() // warm: connections, lazily loaded code
      if (name !== 'wechatpay-node-v3') {
        await admin(sandbox, 'POST', '/faults', { kind: 'bad_signature' })
        const refused = await call().then(() => false, () => true)
        await admin(sandbox, 'DELETE', '/faults')
        if (!refused) throw new Error(`${name} accepted a response with a bad signature`)
      }
    }
    const results = Object.fromEntries(Object.keys(all).map((n) => [n, { seq: [], par: [] }]))
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, call] of Object.entries(all)) {
        results[name].seq.push(await measure(call, 1))
        results[name].par.push(await measure(call, INFLIGHT))
      }
    }
    console.log(`sandbox ${SANDBOX} (one process, state on disk, public-key mode); ${SECONDS} s per run, median of ${ROUNDS} alternating rounds; Node ${process.version}`)
    console.log('| SDK | calls/s sequential | CPU µs/call sequential | calls/s, ' + INFLIGHT + ' in flight | CPU µs/call, ' + INFLIGHT + ' in flight | verifies responses |')
    console.log('|---|---:|---:|---:|---:|---|')
    for (const [name, r] of Object.entries(results)) {
      const f = (xs, k) => median(xs.map((x) => x[k])).toFixed(0)
      console.log(`| ${name} | ${f(r.seq, 'rate')} | ${f(r.seq, 'cpuPerCall')} | ${f(r.par, 'rate')} | ${f(r.par, 'cpuPerCall')} | ${name === 'wechatpay-node-v3' ? 'no (headers dropped)' : 'yes'} |`)
    }
    const g = results.goldplan
    const a = results['wechatpay-axios-plugin']
    const cpuRatio = median(a.seq.map((x) => x.cpuPerCall)) / median(g.seq.map((x) => x.cpuPerCall))
    const parRatio = median(g.par.map((x) => x.rate)) / median(a.par.map((x) => x.rate))
    console.log(`goldplan vs axios plugin: ${cpuRatio.toFixed(2)}× less CPU per call (sequential, goal ≥ 3), ${parRatio.toFixed(2)}× the calls/s with ${INFLIGHT} in flight (goal ≥ 1.5)`)
  } finally {
    const exited = sandbox.child.exitCode !== null ? null : new Promise((resolve) => sandbox.child.once('exit', resolve))
    sandbox.child.kill('SIGTERM')
    await exited // it writes its state on the way out
    require('node:fs').rmSync(sandbox.state, { recursive: true, force: true })
  }
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})

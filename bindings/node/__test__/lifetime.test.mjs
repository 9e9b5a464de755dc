// Process lifetime: a script that makes one call exits by itself; calls from worker_threads and
// from a cluster worker (a fresh child process) work; a worker that ends with calls in flight
// takes nothing down with it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { Worker } from 'node:worker_threads'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import * as gp from '../index.mjs'
import { Sandbox } from '../testing.mjs'
import { PKG } from './helpers.mjs'

const SUB = '1900000109'
const dir = mkdtempSync(path.join(tmpdir(), 'goldplan-life-'))
const sandbox = await Sandbox.start({ mode: 'combined', stateDir: dir })
const config = path.join(dir, 'sandbox.json')
await sandbox.updateMerchant(sandbox.info.mchid, { receipt_link: 'https://provider.example/receipt' })
await sandbox.client().changeGoldPlanStatus(SUB, 'OPEN')

function runScript (name, source) {
  const file = path.join(dir, name)
  writeFileSync(file, source)
  // spawnSync blocks this thread only; the sandbox answers from the addon's own threads.
  return spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 60_000 })
}

test('a script that makes one call exits by itself (CJS and ESM)', () => {
  const cjs = runScript('one-call.cjs', `
    const { Client } = require(${JSON.stringify(PKG)})
    Client.fromFile(${JSON.stringify(config)}).closeAdvertisingShow('${SUB}')
      .then((r) => console.log('done', JSON.stringify(r.data)))
  `)
  assert.equal(cjs.signal, null, 'killed by the timeout: something kept Node alive')
  assert.equal(cjs.status, 0, cjs.stderr)
  assert.equal(cjs.stdout.trim(), 'done null')
  const esm = runScript('one-call.mjs', `
    import { Client } from ${JSON.stringify(path.join(PKG, 'index.mjs'))}
    const r = await Client.fromFile(${JSON.stringify(config)}).changeCustomPageStatus('${SUB}', 'OPEN')
    console.log('done', r.data.sub_mchid)
  `)
  assert.equal(esm.signal, null, 'killed by the timeout: something kept Node alive')
  assert.equal(esm.status, 0, esm.stderr)
  assert.equal(esm.stdout.trim(), `done ${SUB}`)
})

test('calls from worker_threads work, and the main thread keeps working after they exit', async () => {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads')
    const { Client } = require(workerData.pkg)
    const client = Client.fromFile(workerData.config)
    Promise.all([client.closeAdvertisingShow('${SUB}'), client.changeCustomPageStatus('${SUB}', 'OPEN')])
      .then((r) => parentPort.postMessage({ ok: true, sub: r[1].data.sub_mchid }))
      .catch((e) => parentPort.postMessage({ ok: false, error: String(e), kind: e.kind }))
  `
  const results = await Promise.all([1, 2, 3].map(() => new Promise((resolve, reject) => {
    const w = new Worker(source, { eval: true, workerData: { pkg: PKG, config } })
    let message
    w.on('message', (m) => { message = m })
    w.on('error', reject)
    w.on('exit', (code) => resolve({ code, message }))
  })))
  for (const r of results) {
    assert.equal(r.code, 0)
    assert.deepEqual(r.message, { ok: true, sub: SUB })
  }
  const client = gp.Client.fromFile(config)
  assert.equal((await client.closeAdvertisingShow(SUB)).data, null)
})

/** Runs a script in a child process without blocking this thread (the sandbox in this process serves it). */
function runScriptAsync (name, source) {
  const file = path.join(dir, name)
  writeFileSync(file, source)
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => { stdout += d })
    child.stderr.on('data', (d) => { stderr += d })
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }))
  })
}

// Every call of a client (and of a sandbox) started in a worker that is terminated, or exits by
// itself, while they are pending. The pending futures keep running on the addon's runtime after
// the worker's environment (and every object it created) is freed; a future that borrowed its
// object crashed the process (SIGSEGV, heap corruption, an aws-lc panic). In a child process, so
// that a crash is a failed exit status rather than the end of this test runner.
test('workers that end with hundreds of calls in flight leave the process and the main thread working', async () => {
  const r = await runScriptAsync('workers-in-flight.cjs', `
    const { Worker } = require('node:worker_threads')
    const { Client } = require(${JSON.stringify(PKG)})
    const CONFIG = ${JSON.stringify(config)}
    const SUB = '${SUB}'
    const ROUNDS = 3
    const WORKERS = 4
    const CALLS = 240
    const worker = \`
      const { parentPort, workerData } = require('node:worker_threads')
      const { Client } = require(workerData.pkg)
      const sub = workerData.sub
      const pending = []
      const client = Client.fromFile(workerData.config)
      const junk = Buffer.alloc(256, 7).toString('base64')
      const calls = [
        () => client.closeAdvertisingShow(sub),
        () => client.changeCustomPageStatus(sub, 'OPEN'),
        () => client.request('POST', '/v3/goldplan/merchants/close-advertising-show', { sub_mchid: sub }),
        () => client.decryptSensitive(junk),
        () => client.encryptSensitive('6222020000000000'),
        () => client.parseNotification({ 'wechatpay-serial': 'x' }, Buffer.from('{}')),
        () => client.refreshCertificates(),
        () => client.probe(),
        () => client.certificateDownloads()
      ]
      for (let i = 0; i < workerData.calls; i++) pending.push(calls[i % calls.length]())
      if (workerData.sandbox) {
        // The testing addon's own async methods, with their sandbox stopping meanwhile.
        const { Sandbox } = require(workerData.pkg + '/testing.cjs')
        pending.push(Sandbox.start().then((s) => {
          const admin = []
          for (let i = 0; i < 50; i++) admin.push(s.requests(), s.currentInfo(), s.platformCertificates())
          admin.push(s.rotatePlatformCertificate({}), s.stop(), s.client().closeAdvertisingShow(sub))
          return Promise.race(admin)
        }))
      }
      // The first settled call shows the runtime is busy with this worker's calls; the others
      // are still in flight when the worker ends.
      Promise.race(pending.map((p) => p.then(() => {}, () => {}))).then(() => {
        if (workerData.exit) process.exit(0)
        parentPort.postMessage('in flight')
      })
    \`
    const main = Client.fromFile(CONFIG)
    function runWorker (options) {
      return new Promise((resolve, reject) => {
        const w = new Worker(worker, { eval: true, workerData: { pkg: ${JSON.stringify(PKG)}, config: CONFIG, sub: SUB, calls: CALLS, ...options } })
        w.on('message', () => { w.terminate() })
        w.on('error', reject)
        w.on('exit', resolve)
      })
    }
    ;(async () => {
      await main.closeAdvertisingShow(SUB)
      for (let round = 0; round < ROUNDS; round++) {
        const mainCalls = []
        for (let i = 0; i < 20; i++) mainCalls.push(main.changeCustomPageStatus(SUB, 'OPEN'))
        const ends = []
        for (let w = 0; w < WORKERS; w++) ends.push(runWorker({ exit: w % 2 === 1, sandbox: w === 0 }))
        await Promise.all(ends)
        for (const reply of await Promise.all(mainCalls)) if (reply.data.sub_mchid !== SUB) throw new Error('wrong reply')
      }
      const after = await Promise.all([main.closeAdvertisingShow(SUB), main.changeCustomPageStatus(SUB, 'OPEN'), main.refreshCertificates()])
      console.log('main thread still works', after[1].data.sub_mchid)
    })().catch((e) => { console.error(e); process.exit(2) })
  `)
  assert.equal(r.signal, null, `the process was killed by ${r.signal}: ${r.stderr.slice(-2000)}`)
  assert.equal(r.status, 0, r.stderr.slice(-2000))
  assert.equal(r.stdout.trim(), `main thread still works ${SUB}`)
  // And this process, whose sandbox served all of it, still works too.
  assert.equal((await gp.Client.fromFile(config).closeAdvertisingShow(SUB)).data, null)
})

test('a cluster worker (a forked child) makes calls', () => {
  const r = runScript('cluster.cjs', `
    const cluster = require('node:cluster')
    const { Client } = require(${JSON.stringify(PKG)})
    if (cluster.isPrimary) {
      // The primary uses the addon first, as a server that loads it before forking would.
      const client = Client.fromFile(${JSON.stringify(config)})
      client.closeAdvertisingShow('${SUB}').then(() => {
        let pending = 2
        const seen = []
        for (let i = 0; i < 2; i++) {
          const w = cluster.fork()
          w.on('message', (m) => { seen.push(m); w.kill() })
          w.on('exit', () => { if (--pending === 0) console.log(JSON.stringify(seen.sort())) })
        }
      })
    } else {
      const client = Client.fromFile(${JSON.stringify(config)})
      client.changeCustomPageStatus('${SUB}', 'OPEN')
        .then((r) => process.send('ok ' + r.data.sub_mchid))
        .catch((e) => process.send('error ' + e.kind + ' ' + e.message))
    }
  `)
  assert.equal(r.signal, null, r.stderr)
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(JSON.parse(r.stdout.trim()), [`ok ${SUB}`, `ok ${SUB}`])
})

test('stop the shared sandbox', async () => {
  await sandbox.stop()
  rmSync(dir, { recursive: true, force: true })
})

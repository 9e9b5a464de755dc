// Process lifetime: a script that makes one call exits by itself; calls from worker_threads and
// from a cluster worker (a fresh child process) work.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
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

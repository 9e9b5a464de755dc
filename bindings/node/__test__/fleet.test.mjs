// Certificate downloads shared through Redis, configured from Node (`certificateStore`): each
// client builds its own store connection, as separate processes do.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Client, ConfigurationError } from '../index.mjs'
import { Sandbox } from '../testing.mjs'

async function freePort () {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

async function startRedis (t) {
  assert.equal(spawnSync('redis-server', ['--version']).status, 0, 'redis-server is missing: cargo make redis-tools')
  const dir = mkdtempSync(path.join(tmpdir(), 'goldplan-redis-'))
  const port = await freePort()
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' })
  t.after(() => { server.kill('SIGKILL'); rmSync(dir, { recursive: true, force: true }) })
  for (let i = 0; i < 200; i++) {
    const up = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => { socket.end(); resolve(true) })
      socket.on('error', () => resolve(false))
    })
    if (up) break
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return `redis://127.0.0.1:${port}/0`
}

function member (sandbox, certificateStore) {
  const info = sandbox.info
  return new Client({
    mchid: info.mchid,
    serialNo: info.serial_no,
    privateKey: info.private_key_pem,
    apiv3Key: info.apiv3_key,
    baseUrl: sandbox.baseUrl,
    mode: 'certificate',
    certificateStore
  })
}

test('clients configured with one Redis download the certificates once', async (t) => {
  const url = await startRedis(t)
  const sandbox = await Sandbox.start({ mode: 'certificate' })
  t.after(() => sandbox.stop())
  const fleet = [0, 1, 2, 3].map(() => member(sandbox, url))
  const replies = await Promise.all(fleet.map((c) => c.changeGoldPlanStatus('1900000109', 'OPEN')))
  for (const reply of replies) assert.equal(reply.data.sub_mchid, '1900000109')
  const downloads = (await sandbox.requests()).filter((r) => r.path.startsWith('/v3/certificates'))
  assert.equal(downloads.length, 1)
})

test('an unknown store is a configuration error that does not show the URL', async (t) => {
  const sandbox = await Sandbox.start({ mode: 'certificate' })
  t.after(() => sandbox.stop())
  assert.throws(() => member(sandbox, 'memcached://:hunter2@127.0.0.1/'), (e) => {
    assert.ok(e instanceof ConfigurationError, String(e))
    assert.doesNotMatch(e.message, /hunter2/)
    assert.match(e.message, /certificate_store/)
    return true
  })
})

test('rateLimit reaches the core under its camelCase members', async (t) => {
  const sandbox = await Sandbox.start({ mode: 'certificate' })
  t.after(() => sandbox.stop())
  const info = sandbox.info
  const options = (rateLimit) => ({
    mchid: info.mchid, serialNo: info.serial_no, privateKey: info.private_key_pem, apiv3Key: info.apiv3_key, baseUrl: sandbox.baseUrl, rateLimit
  })
  assert.throws(() => new Client(options({ perSecond: 0 })), (e) => e instanceof ConfigurationError && /rate_limit\.per_second/.test(e.message))
  assert.throws(() => new Client(options([5])), (e) => /option rateLimit must be an object/.test(e.message))
  // A valid limit in this process: calls go through it.
  const client = new Client(options({ perSecond: 1000, burst: 2 }))
  const reply = await client.changeGoldPlanStatus('1900000109', 'OPEN')
  assert.equal(reply.data.sub_mchid, '1900000109')
})

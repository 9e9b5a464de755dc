// Callbacks delivered by the sandbox to a local node:http receiver that uses the raw body, the
// replay guard (sync, async, throwing), and acknowledgements.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import * as gp from '../index.mjs'
import { Sandbox } from '../testing.mjs'
import { rejection } from './helpers.mjs'

const MAX_BODY = 1024 * 1024

/** A receiver: reads the raw body (bounded), parses it with `client`, answers with the acknowledgement. */
async function receiver (client, options) {
  const received = []
  const server = http.createServer((req, res) => {
    const chunks = []
    let size = 0
    req.on('data', (c) => {
      size += c.length
      if (size > MAX_BODY) req.destroy()
      else chunks.push(c)
    })
    req.on('end', async () => {
      const raw = Buffer.concat(chunks)
      let ack
      try {
        const n = await client.parseNotification(req.headers, raw, options)
        received.push({ notification: n, headers: req.headers, raw })
        ack = gp.acknowledgement()
      } catch (e) {
        received.push({ error: e, headers: req.headers, raw })
        ack = gp.acknowledgement(e)
      }
      res.writeHead(ack.status, ack.headers)
      res.end(ack.body)
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${server.address().port}/notify`, received, close: () => new Promise((resolve) => server.close(resolve)) }
}

for (const mode of ['certificate', 'public_key', 'combined']) {
  test(`a callback delivered by the sandbox is verified and decrypted (${mode})`, async () => {
    const sandbox = await Sandbox.start({ mode })
    const client = sandbox.client()
    const processed = new Set()
    const r = await receiver(client, { replayGuard: async (id) => processed.has(id) })
    try {
      const resource = { out_trade_no: 'order-1', transaction_id: '4200000000000000001', trade_state: 'SUCCESS' }
      const record = await sandbox.sendCallback({ url: r.url, resource, summary: '支付成功' })
      const done = await sandbox.waitForCallback(record.id, 10)
      assert.equal(done.status, 'delivered', JSON.stringify(done))
      assert.equal(r.received.length, 1)
      const { notification: n, headers, raw } = r.received[0]
      assert.ok(n, String(r.received[0].error))
      assert.equal(n.id, record.id)
      assert.equal(n.eventType, 'TRANSACTION.SUCCESS')
      assert.equal(n.summary, '支付成功')
      assert.deepEqual(n.json(), resource)
      processed.add(n.id)

      // The same delivery again: the guard knows it, so it is a replay, acknowledged with success.
      const replay = await rejection(client.parseNotification(headers, raw, { replayGuard: (id) => processed.has(id) }))
      assert.ok(replay instanceof gp.ReplayError)
      assert.equal(replay.notificationId, n.id)
      assert.equal(gp.acknowledgement(replay).status, 200)
      // A guard that throws: a typed error carrying the cause; WeChat is asked to retry.
      const boom = new Error('redis is down')
      const thrown = await rejection(client.parseNotification(headers, raw, { replayGuard: () => { throw boom } }))
      assert.ok(thrown instanceof gp.InvalidInputError)
      assert.equal(thrown.cause, boom)
      assert.match(thrown.message, /replay guard threw/)
      assert.doesNotMatch(thrown.message, /redis is down/, 'the guard\'s text stays on cause')
      assert.equal(gp.acknowledgement(thrown).status, 400)
      const asyncThrown = await rejection(client.parseNotification(headers, raw, { replayGuard: async () => { throw boom } }))
      assert.ok(asyncThrown instanceof gp.InvalidInputError)
      // Tampering with one byte of the raw body: unauthentic, 401, and the guard is never asked.
      let asked = false
      const tampered = Buffer.from(raw)
      tampered[tampered.length - 3] ^= 1
      const bad = await rejection(client.parseNotification(headers, tampered, { replayGuard: () => { asked = true; return false } }))
      assert.ok(bad instanceof gp.SignatureError)
      assert.equal(asked, false)
      assert.equal(gp.acknowledgement(bad).status, 401)
      // Headers in every shape servers give them.
      const pairs = Object.entries(headers)
      const flat = pairs.flat()
      for (const shape of [pairs, flat, new Headers(headers), new Map(pairs)]) {
        assert.equal((await client.parseNotification(shape, raw)).id, n.id)
      }
      assert.equal((await client.parseNotification(headers, raw.toString('utf8'))).id, n.id)
    } finally {
      await r.close()
      await sandbox.stop()
    }
  })
}

test('a callback with a bad signature or a stale timestamp is refused with 401, then redelivered', async () => {
  const sandbox = await Sandbox.start({ mode: 'public_key', settings: { callback_time_scale: 0.0001 } })
  const client = sandbox.client()
  const r = await receiver(client, {})
  try {
    for (const fault of ['bad_signature', 'stale_timestamp']) {
      await sandbox.injectFault({ kind: fault, target: 'callback' })
      const record = await sandbox.sendCallback({ url: r.url, resource: { n: fault } })
      const done = await sandbox.waitForCallback(record.id, 10)
      assert.equal(done.status, 'delivered', JSON.stringify(done))
      assert.ok(done.attempts.length >= 2, 'the first attempt was refused')
      assert.equal(done.attempts[0].status ?? done.attempts[0].http_status, 401, JSON.stringify(done.attempts[0]))
    }
  } finally {
    await r.close()
    await sandbox.stop()
  }
})

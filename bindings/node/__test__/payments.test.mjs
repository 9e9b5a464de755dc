// Partner JSAPI payments end to end against the sandbox, in every key mode: prepay, the
// front-end pay-sign, a payment through the sandbox's admin API (the six values the page would
// hand to the WeChat client), the TRANSACTION.SUCCESS notification received by a local node:http
// listener, both order queries, closing a paid order, an unknown order, and a prepay refused
// before anything is sent.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { randomBytes } from 'node:crypto'
import * as gp from '../index.mjs'
import { Sandbox } from '../testing.mjs'
import { rejection } from './helpers.mjs'

const SP_MCHID = '1900000100'
const SP_APPID = 'wx8888888888888888'
const SUB_MCHID = '1900000109'
const SUB_APPID = 'wxd678efh567hg6999'
const SUB_OPENID = 'oSubTest0123456789abcdefABCD'
const MAX_BODY = 1024 * 1024
const NOTIFICATION_WAIT_MS = 15000
const PAY_SIGN_KEYS = ['appId', 'nonceStr', 'package', 'paySign', 'signType', 'timeStamp']

/** A unique merchant order number (letters and digits, 22 characters). */
const orderNumber = () => `N${Date.now()}${randomBytes(4).toString('hex')}`

/**
 * A notification listener on 127.0.0.1: hands the raw headers and body to
 * `client.parseNotification` and answers 204 when it verifies and decrypts (else the
 * acknowledgement of the error, so the sandbox retries). `next()` resolves with the next parsed
 * notification, or rejects after `ms`.
 */
async function listener (client) {
  const parsed = []
  const failures = []
  const waiting = []
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
      if (req.method !== 'POST' || req.url !== '/notify') {
        failures.push(new Error(`unexpected ${req.method} ${req.url}`))
        res.writeHead(404)
        res.end()
        return
      }
      try {
        const n = await client.parseNotification(req.headers, raw)
        res.writeHead(204)
        res.end()
        const w = waiting.shift()
        if (w) w(n)
        else parsed.push(n)
      } catch (e) {
        failures.push(e)
        const ack = gp.acknowledgement(e)
        res.writeHead(ack.status, ack.headers)
        res.end(ack.body)
      }
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${server.address().port}/notify`,
    failures,
    next (ms = NOTIFICATION_WAIT_MS) {
      if (parsed.length > 0) return Promise.resolve(parsed.shift())
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const i = waiting.indexOf(done)
          if (i >= 0) waiting.splice(i, 1)
          reject(new Error(`no notification within ${ms} ms; refused deliveries: ${failures.map(String).join('; ') || 'none'}`))
        }, ms)
        const done = (n) => {
          clearTimeout(timer)
          resolve(n)
        }
        waiting.push(done)
      })
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.()
      server.close(resolve)
    })
  }
}

/** POSTs JSON to the sandbox's admin API (plain HTTP on its own base URL). */
async function admin (sandbox, path, body) {
  const res = await fetch(`${sandbox.baseUrl}/sandbox${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body)
  })
  const text = await res.text()
  return { status: res.status, body: text.length > 0 ? JSON.parse(text) : null }
}

for (const mode of ['certificate', 'public_key', 'combined']) {
  test(`a partner JSAPI payment from prepay to notification and queries (${mode})`, async () => {
    const sandbox = await Sandbox.start({ mode })
    const client = sandbox.client()
    const notifications = await listener(client)
    try {
      assert.equal(client.mode, mode)
      // The sandbox's defaults are the ones this test names.
      assert.equal(sandbox.info.mchid, SP_MCHID)
      assert.equal(sandbox.info.sp_appid, SP_APPID)
      assert.ok(sandbox.info.sub_merchants.some((s) => s.sub_mchid === SUB_MCHID && s.sub_appid === SUB_APPID && s.jsapi),
        JSON.stringify(sandbox.info.sub_merchants))
      assert.ok(sandbox.info.users.some((u) => u.sub_openid === SUB_OPENID), JSON.stringify(sandbox.info.users))

      // 2. Prepay for the special merchant's payer, notified on the local listener.
      const outTradeNo = orderNumber()
      const amount = { total: 100, currency: 'CNY' }
      const prepay = await client.jsapiPrepay(SP_APPID, SP_MCHID, SUB_MCHID, '点金计划测试商品', outTradeNo,
        notifications.url, amount, { sub_openid: SUB_OPENID },
        undefined, undefined, undefined, undefined, undefined, undefined, SUB_APPID)
      assert.ok(prepay.requestId, 'prepay: no Request-ID')
      const prepayId = prepay.data.prepay_id
      assert.equal(typeof prepayId, 'string')
      assert.match(prepayId, /^wx\d{14}[0-9a-f]{20}$/i)
      const created = (await sandbox.requests()).filter((r) => r.path === '/v3/pay/partner/transactions/jsapi')
      assert.equal(created.length, 1)
      assert.deepEqual(JSON.parse(created[0].body).payer, { sub_openid: SUB_OPENID })
      assert.equal(JSON.parse(created[0].body).notify_url, notifications.url)

      // Before payment the order exists, unpaid, and has no transaction id to resolve.
      const unpaid = await client.queryOrderByOutTradeNo(outTradeNo, SP_MCHID, SUB_MCHID)
      assert.equal(unpaid.data.trade_state, 'NOTPAY')
      const unresolved = await client.resolveTransactionId(SUB_MCHID, outTradeNo)
      assert.equal(unresolved.data.transaction_id, null)
      assert.equal(unresolved.data.trade_state, 'NOTPAY')

      // 3. The six values for getBrandWCPayRequest, in the payer's AppID (sub_appid).
      const signed = (await client.requestPayment(SUB_APPID, prepayId)).data
      assert.deepEqual(Object.keys(signed).sort(), PAY_SIGN_KEYS)
      for (const key of PAY_SIGN_KEYS) assert.equal(typeof signed[key], 'string', key)
      assert.equal(signed.appId, SUB_APPID)
      assert.equal(signed.package, `prepay_id=${prepayId}`)
      assert.equal(signed.signType, 'RSA')
      assert.match(signed.timeStamp, /^\d{10}$/)
      assert.ok(Math.abs(Number(signed.timeStamp) - Date.now() / 1000) < 600, `timeStamp ${signed.timeStamp} is not now`)
      assert.match(signed.nonceStr, /^[0-9A-Za-z]{32}$/)
      assert.ok(signed.paySign.length > 300, 'paySign is an RSA-2048 signature in base64')

      // A paySign that does not match is refused as the WeChat client refuses it; nothing paid.
      const forged = { ...signed, nonceStr: signed.nonceStr.slice(1) + (signed.nonceStr[0] === 'A' ? 'B' : 'A') }
      const refused = await admin(sandbox, '/v1/pay', forged)
      assert.equal(refused.status, 400, JSON.stringify(refused.body))
      assert.equal(refused.body.code, 'SIGNATURE_MISMATCH')
      // The AppID the payer is not in is refused too.
      const otherApp = await client.requestPayment(SP_APPID, prepayId)
      const wrongApp = await admin(sandbox, '/v1/pay', otherApp.data)
      assert.equal(wrongApp.status, 400, JSON.stringify(wrongApp.body))
      assert.equal(wrongApp.body.code, 'APPID_MISMATCH')
      assert.equal((await client.queryOrderByOutTradeNo(outTradeNo, SP_MCHID, SUB_MCHID)).data.trade_state, 'NOTPAY')

      // 4. The payer pays: the six values exactly as requestPayment returned them.
      const paid = await admin(sandbox, '/v1/pay', signed)
      assert.equal(paid.status, 200, JSON.stringify(paid.body))
      assert.equal(paid.body.trade_state, 'SUCCESS')
      const transactionId = paid.body.transaction_id
      assert.match(transactionId, /^\d{28}$/)

      // 5. The notification reaches the listener, verified and decrypted.
      const n = await notifications.next()
      assert.equal(n.eventType, 'TRANSACTION.SUCCESS')
      assert.equal(n.resourceType, 'encrypt-resource')
      assert.equal(n.originalType, 'transaction')
      const resource = n.json()
      assert.equal(resource.trade_state, 'SUCCESS')
      assert.equal(resource.transaction_id, transactionId)
      assert.equal(resource.out_trade_no, outTradeNo)
      assert.equal(resource.amount.total, amount.total)
      assert.equal(resource.sp_mchid, SP_MCHID)
      assert.equal(resource.sub_mchid, SUB_MCHID)
      assert.equal(resource.payer.sub_openid, SUB_OPENID)
      const delivery = await sandbox.waitForCallback(paid.body.callback_id, 10)
      assert.equal(delivery.status, 'delivered', JSON.stringify(delivery))
      assert.deepEqual(notifications.failures, [])

      // 6. Both queries answer the paid order.
      const byOutTradeNo = await client.queryOrderByOutTradeNo(outTradeNo, SP_MCHID, SUB_MCHID)
      assert.ok(byOutTradeNo.requestId)
      assert.equal(byOutTradeNo.data.trade_state, 'SUCCESS')
      assert.equal(byOutTradeNo.data.transaction_id, transactionId)
      assert.equal(byOutTradeNo.data.out_trade_no, outTradeNo)
      const byTransactionId = await client.queryOrderByTransactionId(transactionId, SP_MCHID, SUB_MCHID)
      assert.equal(byTransactionId.data.trade_state, 'SUCCESS')
      assert.equal(byTransactionId.data.transaction_id, transactionId)
      assert.equal(byTransactionId.data.out_trade_no, outTradeNo)
      const resolved = await client.resolveTransactionId(SUB_MCHID, outTradeNo)
      assert.deepEqual(resolved.data, { transaction_id: transactionId, trade_state: 'SUCCESS' })

      // 7. A paid order cannot be closed; an unknown order does not exist.
      const closed = await rejection(client.closeOrder(outTradeNo, SP_MCHID, SUB_MCHID))
      assert.ok(closed instanceof gp.ApiError, String(closed))
      assert.equal(closed.kind, 'api')
      assert.equal(closed.code, 'ORDERPAID')
      assert.equal(closed.status, 400)
      assert.equal((await client.queryOrderByOutTradeNo(outTradeNo, SP_MCHID, SUB_MCHID)).data.trade_state, 'SUCCESS')
      const unknownNo = orderNumber()
      const missing = await rejection(client.queryOrderByOutTradeNo(unknownNo, SP_MCHID, SUB_MCHID))
      assert.ok(missing instanceof gp.ApiError, String(missing))
      assert.equal(missing.code, 'ORDER_NOT_EXIST')
      assert.equal(missing.status, 404)
      const missingById = await rejection(client.queryOrderByTransactionId('4200000000200001010000000000', SP_MCHID, SUB_MCHID))
      assert.ok(missingById instanceof gp.ApiError, String(missingById))
      assert.equal(missingById.code, 'ORDER_NOT_EXIST')
      assert.deepEqual((await client.resolveTransactionId(SUB_MCHID, unknownNo)).data, { transaction_id: null, trade_state: null })

      // 8. An amount of 0 is refused by the client: an invalid-input error, nothing sent.
      await sandbox.clearRequests()
      const zero = await rejection(client.jsapiPrepay(SP_APPID, SP_MCHID, SUB_MCHID, '点金计划测试商品', orderNumber(),
        notifications.url, { total: 0 }, { sub_openid: SUB_OPENID },
        undefined, undefined, undefined, undefined, undefined, undefined, SUB_APPID))
      assert.ok(zero instanceof gp.InvalidInputError, String(zero))
      assert.equal(zero.kind, 'invalid_input')
      assert.deepEqual(await sandbox.requests(), [], 'the refused prepay reached the sandbox')
    } finally {
      await notifications.close()
      await sandbox.stop()
    }
  })
}

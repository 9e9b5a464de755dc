// The Gold Plan scenario in Node.js, against an in-process sandbox (no WeChat Pay account).
//
// A service provider opens Gold Plan for a special merchant, turns on the merchant receipt,
// sets the industry filter, opens ad display, receives a signed and encrypted payment callback
// on its own HTTP endpoint, and checks a receipt page's check_code.
//
//     node examples/node/gold_plan.mjs
//
// With real credentials, replace `sandbox.client()` by `new Client({ mchid, serialNo,
// privateKey: 'apiclient_key.pem', apiv3Key, publicKeyId: 'PUB_KEY_ID_…', publicKey: 'pub_key.pem' })`.
import http from 'node:http'
import { acknowledgement, expectedCheckCode, verifyCheckCode, GoldPlanError, InvalidInputError } from 'goldplan'
import { Sandbox } from 'goldplan/testing'

const sandbox = await Sandbox.start({ mode: 'combined' })
try {
  const receiptLink = 'https://provider.example/receipt'
  await sandbox.updateMerchant(sandbox.info.mchid, { receipt_link: receiptLink })
  const client = sandbox.client()
  const subMchid = sandbox.info.sub_mchids[0]
  console.log(client)

  const reply = await client.changeGoldPlanStatus(subMchid, 'OPEN', 'JSAPI_AND_MINIPROGRAM')
  console.log(`Gold Plan opened for ${reply.data.sub_mchid} (Request-ID ${reply.requestId})`)
  await client.changeCustomPageStatus(subMchid, 'OPEN')
  await client.setAdvertisingIndustryFilter(subMchid, ['SOFTWARE', 'LOVE_MARRIAGE'])
  await client.openAdvertisingShow(subMchid)
  const state = await sandbox.subMerchant(sandbox.info.mchid, subMchid)
  console.log(`gateway state: gold_plan=${state.gold_plan} custom_page=${state.custom_page} advertising_show=${state.advertising_show}`)

  try {
    await client.setAdvertisingIndustryFilter(subMchid, ['FOOD', 'FOOD', 'FOOD', 'FOOD'])
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error
    console.log(`refused before sending: ${error.message}`)
  }

  // Your notify_url: the raw body, verified and decrypted, answered as WeChat Pay expects.
  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', async () => {
      let ack
      try {
        const event = await client.parseNotification(req.headers, Buffer.concat(chunks))
        console.log(`callback ${event.eventType}: ${event.json().out_trade_no}`)
        ack = acknowledgement()
      } catch (error) {
        console.log(`callback rejected: ${error instanceof GoldPlanError ? error.kind : error}`)
        ack = acknowledgement(error)
      }
      res.writeHead(ack.status, ack.headers).end(ack.body)
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${server.address().port}/notify`
  const record = await sandbox.sendCallback({ url, resource: { out_trade_no: 'ORDER-1001', transaction_id: '4200000000000000001', trade_state: 'SUCCESS' } })
  const delivered = await sandbox.waitForCallback(record.id, 10)
  console.log(`callback ${delivered.status} after ${delivered.attempts.length} attempt(s)`)
  server.close()

  // The receipt page WeChat opens: check the check_code it appended.
  const checkCode = expectedCheckCode(receiptLink, subMchid, 'ORDER-1001', '4200000000000000001')
  console.log(`receipt check_code ${checkCode} valid: ${verifyCheckCode(receiptLink, subMchid, 'ORDER-1001', '4200000000000000001', checkCode)}`)
} finally {
  await sandbox.stop()
}

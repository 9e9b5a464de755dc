// A callback endpoint (notify_url) with node:http: read the raw body (bounded), hand the
// headers and the exact bytes to `parseNotification`, answer with `acknowledgement`. With
// Express, use `express.raw({ type: 'application/json', limit: '1mb' })` on the route and pass
// `req.headers` and `req.body` (a Buffer) the same way.
//
//     node examples/node/callback_endpoint.mjs            # against a local sandbox
import http from 'node:http'
import { acknowledgement } from 'goldplan'
import { Sandbox } from 'goldplan/testing'

const MAX_BODY = 1024 * 1024 // WeChat Pay callbacks are a few kilobytes

/** Handles POST /notify for `client`; `processed` is your store of handled notification ids. */
export function notifyHandler (client, processed) {
  return (req, res) => {
    if (req.method !== 'POST') return res.writeHead(405).end()
    const chunks = []
    let size = 0
    req.on('data', (chunk) => {
      size += chunk.length
      if (size > MAX_BODY) {
        res.writeHead(413).end()
        req.destroy()
      } else {
        chunks.push(chunk)
      }
    })
    req.on('end', async () => {
      let ack
      try {
        const event = await client.parseNotification(req.headers, Buffer.concat(chunks), {
          replayGuard: (id) => processed.has(id)
        })
        const payment = event.json()
        processed.add(event.id) // after your own processing succeeded
        console.log(`paid: ${payment.out_trade_no} (${event.eventType}, signed by ${event.serial})`)
        ack = acknowledgement()
      } catch (error) {
        console.log(`refused: ${error.kind ?? error}`)
        ack = acknowledgement(error) // 401 forged, 400 undecryptable, 200 for a replay
      }
      res.writeHead(ack.status, ack.headers).end(ack.body)
    })
  }
}

const sandbox = await Sandbox.start({ mode: 'public_key' })
const server = http.createServer(notifyHandler(sandbox.client(), new Set()))
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
try {
  const url = `http://127.0.0.1:${server.address().port}/notify`
  const record = await sandbox.sendCallback({ url, resource: { out_trade_no: 'ORDER-2001', trade_state: 'SUCCESS' } })
  const done = await sandbox.waitForCallback(record.id, 10)
  console.log(`delivery ${done.status}`)
  if (done.status !== 'delivered') process.exitCode = 1
} finally {
  server.close()
  await sandbox.stop()
}

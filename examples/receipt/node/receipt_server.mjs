// A merchant receipt (商家小票) page served by the provider's back end, in Node.
//
// WeChat opens `<link>?sub_mch_id=…&out_trade_no=…&check_code=…` in an iframe of its Gold Plan
// page. Within WeChat's 3-second budget this server reads the three parameters
// (parseReceiptQuery), checks sub_mch_id is one of its special merchants, resolves the order's
// transaction_id with one order query bounded to 1 s (client.resolveTransactionId), verifies
// check_code over the link exactly as configured (verifyCheckCode), and renders the receipt
// with onIframeReady SHOW_CUSTOM_PAGE; when any step fails it posts SHOW_OFFICIAL_PAGE at once
// and shows nothing of the order.
//
// Deliberately broken variants under /broken/<name>, which `goldplan receipt test` fails, each
// for its own reason: too-slow, object-message, wrong-origin, no-check-code, http-jump-out.
//
// Run: node receipt_server.mjs CONFIG.json [--port 8000] [--sub-mchid 1900000109 ...]
// (CONFIG.json: the client's configuration, e.g. the sandbox's sandbox.json). The configured
// receipt link of each page is http://127.0.0.1:PORT + its path.
import http from 'node:http'
import { parseArgs } from 'node:util'
import { Client, parseReceiptQuery, verifyCheckCode } from 'goldplan'

const WECHAT_ORIGIN = 'https://payapp.weixin.qq.com'
const JGOLDPLAN_SCRIPT = 'https://wx.gtimg.com/pay_h5/goldplan/js/jgoldplan-1.0.0.js'
// Of WeChat's 3 s: what the order query may take, leaving the rest to the page itself.
const QUERY_TIMEOUT_MS = 1000
const BROKEN = new Set(['too-slow', 'object-message', 'wrong-origin', 'no-check-code', 'http-jump-out'])

/** The verified order behind a receipt URL, or null and why not (for the log only). */
async function resolve (client, merchants, link, url) {
  let params
  try {
    params = parseReceiptQuery(url)
  } catch {
    return [null, 'bad parameters']
  }
  const subMchId = params.subMchId.raw
  const outTradeNo = params.outTradeNo.raw
  // Attacker-controlled until check_code verifies: never query for a stranger.
  if (!merchants.has(subMchId)) return [null, 'not our special merchant']
  let resolved
  try {
    resolved = (await client.resolveTransactionId(subMchId, outTradeNo, QUERY_TIMEOUT_MS)).data
  } catch (e) {
    return [null, `order query failed (${e.name})`]
  }
  const transactionId = resolved.transaction_id
  if (!transactionId) return [null, `order not paid (${resolved.trade_state})`]
  if (!verifyCheckCode(link, subMchId, outTradeNo, transactionId, params.checkCode.raw)) {
    return [null, 'check_code mismatch']
  }
  return [{ out_trade_no: outTradeNo, transaction_id: transactionId, trade_state: resolved.trade_state }, 'ok']
}

const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** The receipt HTML; `variant` breaks one rule on purpose. */
function page (order, variant) {
  const ready = { action: 'onIframeReady', displayStyle: order ? 'SHOW_CUSTOM_PAGE' : 'SHOW_OFFICIAL_PAGE' }
  // JSON.stringify in the page: WeChat reads a JSON string, not an object.
  const message = variant === 'object-message' ? JSON.stringify(ready) : `JSON.stringify(${JSON.stringify(ready)})`
  const target = JSON.stringify(variant === 'wrong-origin' ? 'https://pay.weixin.qq.com' : WECHAT_ORIGIN)
  const delayMs = variant === 'too-slow' ? 3500 : 0
  let body = '<p>订单信息请以微信支付凭证为准</p>'
  let jump = ''
  if (order) {
    const scheme = variant === 'http-jump-out' ? 'http' : 'https'
    const jumpOut = { action: 'jumpOut', jumpOutUrl: `${scheme}://shop.example.com/orders/${order.out_trade_no}` }
    const rows = [['商户单号', 'out_trade_no'], ['微信支付单号', 'transaction_id'], ['状态', 'trade_state']]
      .map(([label, key]) => `<tr><td>${label}</td><td>${escapeHtml(order[key])}</td></tr>`).join('')
    body = `<h2>感谢惠顾</h2><table>${rows}</table>`
    jump = '<button type="button" id="orders">查看订单</button>' +
      `<script>document.getElementById('orders').addEventListener('click', () => ` +
      `parent.postMessage(JSON.stringify(${JSON.stringify(jumpOut)}), ${target}));</script>`
  }
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>商家小票</title>
<script src="${JGOLDPLAN_SCRIPT}"></script>
<style>html{font-size:16px} body{margin:0;padding:16px;font-family:sans-serif}
td{padding:4px 8px 4px 0} button{margin-top:12px;padding:8px 16px}</style>
</head><body>
${body}${jump}
<script>setTimeout(() => parent.postMessage(${message}, ${target}), ${delayMs});</script>
</body></html>`
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { port: { type: 'string', default: '8000' }, 'sub-mchid': { type: 'string', multiple: true } }
})
const client = Client.fromFile(positionals[0] ?? 'goldplan-sandbox-state/sandbox.json')
const merchants = new Set(values['sub-mchid'] ?? ['1900000109'])

const server = http.createServer(async (req, res) => {
  const path = req.url.split('?')[0]
  let variant = null
  if (path.startsWith('/broken/')) {
    variant = path.slice('/broken/'.length)
    if (!BROKEN.has(variant)) return res.writeHead(404).end()
  } else if (path !== '/receipt') {
    return res.writeHead(404).end()
  }
  const link = `http://127.0.0.1:${server.address().port}${path}`
  const started = performance.now()
  let [order, why] = await resolve(client, merchants, link, req.url)
  if (variant === 'no-check-code' && why === 'check_code mismatch') {
    // Broken on purpose: renders the order whatever check_code says.
    const params = parseReceiptQuery(req.url)
    order = { out_trade_no: params.outTradeNo.raw, transaction_id: '(unverified)', trade_state: 'SUCCESS' }
  }
  const body = Buffer.from(page(order, variant))
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': body.length, 'Cache-Control': 'no-store' })
  res.end(body)
  process.stderr.write(`${path}: ${why} in ${Math.round(performance.now() - started)} ms\n`)
})
server.listen(Number(values.port), '127.0.0.1', () => {
  console.log(`receipt page at http://127.0.0.1:${server.address().port}/receipt`)
})

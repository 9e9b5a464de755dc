// The Node receipt page example (examples/receipt/node) against the sandbox, checked in a real
// Chromium by `goldplan receipt test --json`: the page passes for a paid order of a merchant
// with Gold Plan and the receipt open, and each deliberately broken variant fails for its own
// reason and no other, with exit code 7.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { Sandbox } from '../testing.mjs'
import { PKG, REPO } from './helpers.mjs'

const EXAMPLE_DIR = path.join(REPO, 'examples', 'receipt', 'node')
const SP_MCHID = '1900000100'
const SP_APPID = 'wx8888888888888888'
const SUB_MCHID = '1900000109'
const SUB_APPID = 'wxd678efh567hg6999'
const SUB_OPENID = 'oSubTest0123456789abcdefABCD'
// The CLI the test-node task builds (`cargo build -p goldplan-cli`), or the one named.
const CLI = process.env.GOLDPLAN_CLI ?? path.join(REPO, 'target', 'debug', 'goldplan')

const BROKEN = {
  'too-slow': ['ready_in_time'],
  'object-message': ['ready_in_time', 'json_string_message'],
  'wrong-origin': ['ready_in_time', 'documented_origin'],
  'no-check-code': ['checks_check_code'],
  'http-jump-out': ['jump_out_https']
}

/** Starts the example on a free port; resolves with its base URL and a stop function. */
async function receiptServer (config) {
  const modules = path.join(EXAMPLE_DIR, 'node_modules')
  mkdirSync(modules, { recursive: true })
  rmSync(path.join(modules, 'goldplan'), { force: true, recursive: true })
  symlinkSync(PKG, path.join(modules, 'goldplan'), 'dir')
  const child = spawn(process.execPath, [path.join(EXAMPLE_DIR, 'receipt_server.mjs'), config, '--port', '0'],
    { stdio: ['ignore', 'pipe', 'inherit'] })
  const [line] = await Promise.race([
    createInterface({ input: child.stdout })[Symbol.asyncIterator]().next().then((r) => [r.value]),
    new Promise((resolve, reject) => child.once('exit', (code) => reject(new Error(`the example exited with ${code}`))))
  ])
  const m = /^receipt page at (http:\/\/127\.0\.0\.1:\d+)\/receipt$/.exec(line ?? '')
  assert.ok(m, `unexpected first line: ${line}`)
  return { base: m[1], stop: () => child.kill() }
}

/** `goldplan receipt test --json`: [exit code, report]. */
function receiptTest (url, order) {
  const r = spawnSync(CLI, ['receipt', 'test', url, '--json', '--sub-mch-id', SUB_MCHID,
    '--out-trade-no', order.outTradeNo, '--transaction-id', order.transactionId], { encoding: 'utf8', timeout: 60_000 })
  assert.ok(r.stdout, `no report: ${r.stderr}`)
  return [r.status, JSON.parse(r.stdout)]
}

test('the Node receipt example passes in Chromium and each broken variant fails for its reason', async () => {
  assert.ok(existsSync(CLI), `${CLI} is missing: cargo build -p goldplan-cli (the test-node task does)`)
  const state = mkdtempSync(path.join(tmpdir(), 'goldplan-receipt-'))
  const sandbox = await Sandbox.start({ stateDir: state })
  let server
  try {
    server = await receiptServer(path.join(state, 'sandbox.json'))
    const client = sandbox.client()
    await sandbox.updateMerchant(SP_MCHID, { receipt_link: `${server.base}/receipt` })
    await client.changeGoldPlanStatus(SUB_MCHID, 'OPEN')
    await client.changeCustomPageStatus(SUB_MCHID, 'OPEN')
    const outTradeNo = `NODE${Date.now()}`
    await client.jsapiPrepay(SP_APPID, SP_MCHID, SUB_MCHID, '点金计划小票测试', outTradeNo,
      'https://provider.example.com/notify', { total: 880 }, { sub_openid: SUB_OPENID },
      undefined, undefined, undefined, undefined, undefined, undefined, SUB_APPID)
    const res = await fetch(`${sandbox.baseUrl}/sandbox/v1/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sp_mchid: SP_MCHID, sub_mchid: SUB_MCHID, out_trade_no: outTradeNo })
    })
    const paid = await res.json()
    assert.equal(res.status, 200, JSON.stringify(paid))
    const order = { outTradeNo, transactionId: paid.transaction_id }
    const page = await (await fetch(paid.gold_plan_page_url)).text()
    assert.ok(page.includes(paid.receipt_url.replaceAll('&', '\\u0026')), 'the Gold Plan page embeds the receipt URL')

    const [status, report] = receiptTest(`${server.base}/receipt`, order)
    assert.equal(status, 0, JSON.stringify(report, null, 2))
    assert.equal(report.passed, true)
    assert.equal(report.url, paid.receipt_url)
    assert.equal(report.display_style, 'SHOW_CUSTOM_PAGE')
    assert.ok(report.ready_ms < 3000 && report.margin_ms === 3000 - report.ready_ms, JSON.stringify(report))
    assert.deepEqual(report.jump_out_urls, [`https://shop.example.com/orders/${outTradeNo}`])

    for (const [variant, expected] of Object.entries(BROKEN)) {
      const [code, broken] = receiptTest(`${server.base}/broken/${variant}`, order)
      assert.equal(code, 7, `${variant}: ${JSON.stringify(broken)}`)
      assert.deepEqual(broken.rules.filter((r) => !r.passed).map((r) => r.rule), expected, variant)
    }
  } finally {
    server?.stop()
    await sandbox.stop()
    rmSync(state, { recursive: true, force: true })
  }
})

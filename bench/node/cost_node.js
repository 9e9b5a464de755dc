'use strict'
// The Node side of bench/cost.py: one Node process, one goldplan.Client (the napi addon),
// making 点金计划管理 calls (OPEN, 200 with a signed JSON body) against a sandbox *process*, with
// K calls in flight on the one event loop, and printing the wall time as JSON; bench/cost.py
// measures the CPU time from outside.
//
//   NAPI_RS_NATIVE_LIBRARY_PATH=/path/release.node \
//     node bench/node/cost_node.js --config sandbox.json --calls N [--concurrency K]
//
// bindings/node loads the addon named by NAPI_RS_NATIVE_LIBRARY_PATH (bench/cost.py passes the
// release build there) or else its own goldplan.linux-x64-gnu.node.

const path = require('node:path')

const goldplan = require(path.join(__dirname, '..', '..', 'bindings', 'node'))

const SUB_MCHID = '1900000109'

function option (name, fallback) {
  const i = process.argv.indexOf(name)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback
}

async function call (client) {
  const reply = await client.changeGoldPlanStatus(SUB_MCHID, 'OPEN')
  if (reply.data.sub_mchid !== SUB_MCHID) throw new Error(`unexpected reply: ${JSON.stringify(reply.data)}`)
}

async function main () {
  const config = option('--config')
  const calls = Number(option('--calls', '1000'))
  const concurrency = Math.max(1, Number(option('--concurrency', '1')))
  if (!config || !Number.isInteger(calls) || calls < 0 || !Number.isInteger(concurrency)) {
    throw new Error('usage: cost_node.js --config sandbox.json --calls N [--concurrency K]')
  }
  const client = goldplan.Client.fromFile(config)
  await call(client) // warm: the connection is open and nothing is left lazy
  const worker = async (share) => {
    for (let i = 0; i < share; i++) await call(client)
  }
  const started = process.hrtime.bigint()
  await Promise.all(Array.from({ length: concurrency },
    (_, w) => worker(Math.floor(calls / concurrency) + (w < calls % concurrency ? 1 : 0))))
  const wallS = Number(process.hrtime.bigint() - started) / 1e9
  console.log(JSON.stringify({ calls, concurrency, wall_s: wallS }))
}

main().catch((e) => {
  console.error(`cost_node: ${e && e.stack ? e.stack : e}`)
  process.exit(1)
})

import { Client } from 'goldplan'
import { Sandbox } from 'goldplan/testing'

const sandbox = await Sandbox.start()
const client = sandbox.client() // a goldplan Client configured for the sandbox's merchant
const subMchid = sandbox.info.sub_mchids[0]
const reply = await client.changeGoldPlanStatus(subMchid, 'OPEN')
await client.openAdvertisingShow(subMchid, ['SOFTWARE'])
const state = await sandbox.subMerchant(sandbox.info.mchid, subMchid)
console.log(state.gold_plan, reply.requestId, client instanceof Client)
await sandbox.stop()

// The facade's types in use, checked with `tsc --strict --noEmit` (examples/node/tsconfig.json).
import {
  Client, ApiError, GoldPlanError, acknowledgement, verifyCheckCode, expectedCheckCode,
  type IndustryType, type OperationType, type Reply, type SubMchidResult, type Notification,
  type ChangeCustomPageStatusResult, type PlatformCertificate
} from 'goldplan'
import { Sandbox } from 'goldplan/testing'

async function story (client: Client, subMchid: string): Promise<string | undefined> {
  const open: OperationType = 'OPEN'
  const reply: Reply<SubMchidResult> = await client.changeGoldPlanStatus(subMchid, open, 'JSAPI')
  const filters: readonly IndustryType[] = ['SOFTWARE', 'POTOGRAPHY']
  await client.setAdvertisingIndustryFilter(subMchid, filters)
  await client.openAdvertisingShow(subMchid)
  // Enum values in any case: the core checks them.
  const page: Reply<ChangeCustomPageStatusResult> = await client.changeCustomPageStatus(subMchid, 'close')
  const echoed: OperationType | null | undefined = page.data.operation_type
  void echoed
  const trusted: PlatformCertificate[] = await client.refreshCertificates()
  void trusted
  const response = await client.request('POST', '/v3/goldplan/merchants/close-advertising-show', { sub_mchid: subMchid })
  const status: number = response.status
  const { ciphertext, wechatpaySerial } = await client.encryptSensitive('张三')
  void [status, ciphertext, wechatpaySerial]
  try {
    await client.closeAdvertisingShow(subMchid)
  } catch (e) {
    if (e instanceof ApiError) return `${e.status ?? 0} ${e.code ?? ''} ${e.requestId ?? ''}`
    if (e instanceof GoldPlanError && e.retryable) return e.kind
    throw e
  }
  return reply.requestId
}

async function onCallback (client: Client, headers: Record<string, string | string[] | undefined>, body: Buffer): Promise<number> {
  try {
    const n: Notification = await client.parseNotification(headers, body, { replayGuard: async (id: string) => id === 'seen' })
    const resource = n.json<{ out_trade_no: string }>()
    return resource.out_trade_no.length
  } catch (e) {
    return acknowledgement(e).status
  }
}

/** The receipt helpers: module functions, no client needed. */
function receiptValid (link: string, subMchid: string, outTradeNo: string, transactionId: string, checkCode: string): boolean {
  const expected: string = expectedCheckCode(link, subMchid, outTradeNo, transactionId)
  return expected.length > 0 && verifyCheckCode(link, subMchid, outTradeNo, transactionId, checkCode)
}

async function main (): Promise<void> {
  const sandbox = await Sandbox.start({ mode: 'combined' })
  const client: Client = sandbox.client({ timeout: 5 })
  const other = new Client({ mchid: '1900000100', serialNo: 'ABC', privateKey: Buffer.from(''), mode: 'public_key', timeout: 3 })
  void other
  console.log(await story(client, sandbox.info.sub_mchids[0] ?? ''), await onCallback(client, {}, Buffer.alloc(0)))
  await sandbox.stop()
}

void main
void receiptValid

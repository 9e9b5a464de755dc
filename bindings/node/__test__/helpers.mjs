// Shared helpers of the Node test suite.
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

export const require = createRequire(import.meta.url)
export const HERE = path.dirname(fileURLToPath(import.meta.url))
export const PKG = path.resolve(HERE, '..')
export const REPO = path.resolve(PKG, '..', '..')
export const VECTORS = path.join(REPO, 'tests', 'vectors')

export function loadVector (name) {
  const data = JSON.parse(readFileSync(path.join(VECTORS, name), 'utf8'))
  if (data.format_version !== 1) throw new Error(`${name}: unknown format_version`)
  return data
}

export const vectorPath = (relative) => path.join(VECTORS, relative)
export const keyText = (name) => readFileSync(path.join(VECTORS, 'keys', name), 'utf8')

import http from 'node:http'
import { createSign, randomBytes } from 'node:crypto'

export const GATEWAY_KEY_ID = 'PUB_KEY_ID_0114232134912410000000000000000001'

/**
 * A fake WeChat Pay gateway on 127.0.0.1 that signs its answers with the test WeChat Pay
 * public-key key pair of tests/vectors/keys, using Node's own crypto (independent of the
 * addon). `answer(req, body)` returns `{ status, body, probe?, serial?, timestamp? }`.
 */
export async function fakeGateway (answer) {
  const key = keyText('wechatpay_test_pubkey_key.pem')
  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const a = answer(req, Buffer.concat(chunks))
      const body = Buffer.from(a.body ?? '', 'utf8')
      const ts = String(a.timestamp ?? Math.floor(Date.now() / 1000))
      const nonce = randomBytes(16).toString('hex')
      let signature
      if (a.probe) {
        signature = 'WECHATPAY/SIGNTEST/' + randomBytes(8).toString('hex')
      } else {
        const s = createSign('RSA-SHA256')
        s.update(`${ts}\n${nonce}\n`)
        s.update(body)
        s.update('\n')
        signature = s.sign(key, 'base64')
      }
      res.writeHead(a.status ?? 200, {
        'content-type': 'application/json',
        'request-id': 'fake-request-id',
        'wechatpay-timestamp': ts,
        'wechatpay-nonce': nonce,
        'wechatpay-serial': a.serial ?? GATEWAY_KEY_ID,
        'wechatpay-signature': signature,
        'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048'
      })
      res.end(body)
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    baseUrl: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(resolve))
  }
}

/** Client options for the fake gateway (public-key mode, the vector merchant key). */
export function fakeGatewayOptions (baseUrl, extra = {}) {
  return {
    mchid: '1900000100',
    serialNo: '3775B6A45ACD588826D15E583A95F5DD12345678',
    privateKey: path.join(VECTORS, 'keys', 'merchant_test_key.pem'),
    apiv3Key: '0123456789abcdefghijklmnopqrstuv',
    publicKeyId: GATEWAY_KEY_ID,
    publicKey: readFileSync(path.join(VECTORS, 'keys', 'wechatpay_test_pubkey.pem')),
    baseUrl,
    maxAttempts: 1,
    ...extra
  }
}

/** Rejects with what `promise` rejects with, or fails when it resolves. */
export async function rejection (promise) {
  try {
    await promise
  } catch (e) {
    return e
  }
  throw new Error('expected a rejection')
}

// The client against the in-process sandbox (goldplan/testing): every operation in every key
// mode, certificate rotation under load, and rejected responses.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { publicEncrypt, constants } from 'node:crypto'
import { createPublicKey } from 'node:crypto'
import * as gp from '../index.mjs'
import { Sandbox } from '../testing.mjs'
import { rejection } from './helpers.mjs'

const SUB = '1900000109'
// A PNG signature plus a header chunk: enough for the sandbox's format check.
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 1)])

for (const mode of ['certificate', 'public_key', 'combined']) {
  test(`every operation in ${mode} mode`, async () => {
    const sandbox = await Sandbox.start({ mode })
    try {
      await sandbox.updateMerchant(sandbox.info.mchid, { receipt_link: 'https://provider.example/receipt' })
      const client = sandbox.client()
      assert.equal(client.mode, mode)
      assert.match(client.userAgent, /goldplan-node\//)

      const probe = await client.probe()
      assert.equal(probe.ok, true, JSON.stringify(probe))

      const opened = await client.changeGoldPlanStatus(SUB, 'OPEN', 'JSAPI')
      assert.equal(opened.data.sub_mchid, SUB)
      assert.ok(opened.requestId)
      const page = await client.changeCustomPageStatus(SUB, 'OPEN')
      assert.equal(page.data.sub_mchid, SUB)
      assert.deepEqual(await client.setAdvertisingIndustryFilter(SUB, ['SOFTWARE', 'POTOGRAPHY']).then((r) => r.data), null)
      assert.equal((await client.openAdvertisingShow(SUB, ['E_COMMERCE'])).data, null)
      assert.equal((await client.openAdvertisingShow(SUB)).data, null)
      assert.equal((await client.closeAdvertisingShow(SUB)).data, null)

      const raw = await client.request('POST', '/v3/goldplan/merchants/close-advertising-show', { sub_mchid: SUB })
      assert.equal(raw.status, 204)
      assert.ok(raw.requestId)
      assert.ok(raw.serial)
      const text = await client.request('POST', '/v3/goldplan/merchants/close-advertising-show', JSON.stringify({ sub_mchid: SUB }), { idempotent: true })
      assert.equal(text.status, 204)

      const upload = await client.uploadImage('logo.png', PNG)
      assert.ok(upload.mediaId)
      const media = await sandbox.media(upload.mediaId)
      assert.equal(media.size ?? media.len ?? PNG.length, PNG.length)

      const sealed = await client.encryptSensitive('张三')
      assert.ok(sealed.ciphertext.length > 100)
      // Certificate mode encrypts to the newest platform certificate; the others to the public key.
      if (mode === 'certificate') assert.match(sealed.wechatpaySerial, /^[0-9A-F]+$/)
      else assert.equal(sealed.wechatpaySerial, sandbox.info.public_key_id)

      // A field encrypted to the merchant key (as WeChat does in responses) decrypts off-thread.
      const merchantPublic = createPublicKey(sandbox.info.private_key_pem)
      const toMerchant = publicEncrypt({ key: merchantPublic, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from('13800138000')).toString('base64')
      assert.equal(await client.decryptSensitive(toMerchant), '13800138000')

      if (mode === 'public_key') {
        // Public-key mode never needs platform certificates: nothing is downloaded.
        await client.refreshCertificates()
        assert.deepEqual(client.platformCertificates(), [])
        assert.equal(await client.certificateDownloads(), 0)
      } else {
        await client.refreshCertificates()
        const certs = client.platformCertificates()
        assert.ok(certs.length >= 1)
        assert.match(certs[0].pem, /BEGIN CERTIFICATE/)
        assert.ok(certs[0].notAfter > certs[0].notBefore)
        assert.ok(await client.certificateDownloads() >= 1)
      }
    } finally {
      await sandbox.stop()
    }
    assert.equal(sandbox.running, false)
  })
}

test('clients from camelCase options (PEM text, Buffers, paths) and from sandbox.json', async (t) => {
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const path = await import('node:path')
  const dir = mkdtempSync(path.join(tmpdir(), 'goldplan-node-'))
  const sandbox = await Sandbox.start({ mode: 'combined', stateDir: dir })
  t.after(async () => {
    await sandbox.stop()
    rmSync(dir, { recursive: true, force: true })
  })
  const info = sandbox.info
  await sandbox.client().changeGoldPlanStatus(SUB, 'OPEN')
  await sandbox.updateMerchant(sandbox.info.mchid, { receipt_link: 'https://provider.example/receipt' })
  const keyFile = path.join(dir, 'apiclient_key.pem')
  writeFileSync(keyFile, info.private_key_pem)
  const variants = [
    { privateKey: info.private_key_pem, publicKey: info.public_key_pem },
    { privateKey: Buffer.from(info.private_key_pem), publicKey: Buffer.from(info.public_key_pem), apiv3Key: Buffer.from(info.apiv3_key) },
    { privateKey: keyFile, publicKey: new Uint8Array(Buffer.from(info.public_key_pem)) },
    { privateKeyPath: keyFile, publicKeyPem: info.public_key_pem, merchantCertificate: info.certificate_pem, maxResponseBody: 65536 }
  ]
  for (const v of variants) {
    const client = new gp.Client({
      mchid: info.mchid,
      serialNo: info.serial_no,
      apiv3Key: info.apiv3_key,
      publicKeyId: info.public_key_id,
      mode: 'public_key',
      baseUrl: sandbox.baseUrl,
      timeout: 10,
      connectTimeout: 5,
      maxAttempts: 2,
      maxSkewSecs: 300,
      ...v
    })
    assert.equal((await client.closeAdvertisingShow(SUB)).data, null)
  }
  const fromFile = gp.Client.fromFile(path.join(dir, 'sandbox.json'))
  assert.equal(fromFile.mchid, info.mchid)
  assert.equal(fromFile.baseUrl, sandbox.baseUrl)
  assert.equal((await fromFile.changeCustomPageStatus(SUB, 'CLOSE')).data.sub_mchid, SUB)
})

test('1 000 concurrent calls with a certificate rotation in the middle', async () => {
  const sandbox = await Sandbox.start({ mode: 'certificate' })
  try {
    const client = sandbox.client()
    await client.changeGoldPlanStatus(SUB, 'OPEN')
    await client.refreshCertificates()
    const before = client.platformCertificates().map((c) => c.serialNo)
    const calls = []
    let rotation
    for (let i = 0; i < 1000; i++) {
      // The immediate switch: signing moves to a certificate the client has never seen.
      if (i === 500) rotation = sandbox.rotatePlatformCertificate({ sign_with_new: true })
      calls.push(i % 2 ? client.closeAdvertisingShow(SUB) : client.request('POST', '/v3/goldplan/merchants/close-advertising-show', { sub_mchid: SUB }))
    }
    const outcomes = await Promise.allSettled(calls)
    const rotated = await rotation
    const failed = outcomes.filter((o) => o.status === 'rejected')
    assert.equal(failed.length, 0, failed.slice(0, 3).map((f) => String(f.reason)).join('; '))
    // A call after the rotation is verified with the new certificate, fetched once.
    await client.closeAdvertisingShow(SUB)
    const after = client.platformCertificates().map((c) => c.serialNo)
    assert.ok(after.includes(rotated.new_serial_no), `new ${rotated.new_serial_no} not in ${after}`)
    assert.ok(!before.includes(rotated.new_serial_no))
    const downloads = await client.certificateDownloads()
    assert.ok(downloads >= 2 && downloads <= 4, `single-flight refresh: ${downloads} downloads`)
  } finally {
    await sandbox.stop()
  }
})

test('tampered, stale and forged-serial responses are rejected', async () => {
  const sandbox = await Sandbox.start({ mode: 'public_key' })
  try {
    const client = sandbox.client({ maxAttempts: 1 })
    await client.changeGoldPlanStatus(SUB, 'OPEN')
    for (const [fault, kind] of [['bad_signature', 'signature_invalid'], ['stale_timestamp', 'clock_skew'], ['unknown_serial', 'unknown_serial']]) {
      await sandbox.injectFault({ kind: fault })
      const e = await rejection(client.closeAdvertisingShow(SUB))
      assert.ok(e instanceof gp.SignatureError, `${fault}: ${e}`)
      assert.equal(e.kind, kind, fault)
      assert.equal(e.family, 'signature')
      assert.ok(e.requestId, `${fault}: the Request-ID is kept`)
    }
    assert.equal((await client.closeAdvertisingShow(SUB)).data, null, 'a clean response passes again')
  } finally {
    await sandbox.stop()
  }
})

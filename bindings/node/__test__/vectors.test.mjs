// Every shared vector in tests/vectors/*.json, run through the Node binding.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, createPublicKey, createVerify } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { inspect } from 'node:util'
import * as gp from '../index.mjs'
import { Sandbox } from '../testing.mjs'
import { loadVector, vectorPath, keyText, VECTORS } from './helpers.mjs'

const READ = new Set()
function load (name) {
  READ.add(name)
  return loadVector(name)
}
const sha256 = (b) => createHash('sha256').update(b).digest('hex')

test('messages have the exact bytes', () => {
  const cases = load('messages.json').cases
  assert.ok(cases.length >= 9)
  for (const c of cases) {
    const body = Buffer.from(c.body, 'utf8')
    let message
    if (c.kind === 'request') {
      // As Python's urlsplit: path plus '?query' when the query is not empty; no fragment.
      const rest = c.url.replace(/^[a-z]+:\/\/[^/?#]*/i, '').split('#')[0]
      const cut = rest.indexOf('?')
      const target = cut < 0 ? rest : rest.slice(0, cut) + (rest.length > cut + 1 ? rest.slice(cut) : '')
      const url = gp.canonicalUrl(target)
      assert.equal(url, c.canonical_url, c.name)
      message = gp.messageToSign(c.method, url, Number(c.timestamp), c.nonce, body)
    } else {
      assert.equal(c.kind, 'response')
      message = gp.messageToVerify(c.timestamp, c.nonce, body)
    }
    assert.deepEqual(message, Buffer.from(c.message, 'utf8'), c.name)
    assert.equal(message.length, c.len, c.name)
    assert.equal(sha256(message), c.sha256, c.name)
  }
})

test('signatures equal openssl for PKCS#8 and PKCS#1 keys', () => {
  const v = load('signing.json')
  const pkcs8 = gp.PrivateKey.fromPem(vectorPath(v.key_pkcs8))
  const pkcs1 = gp.PrivateKey.fromPem(keyText(v.key_pkcs1.split('/').pop()))
  assert.equal(pkcs8.bits, 2048)
  assert.equal(pkcs1.bits, 2048)
  assert.deepEqual(pkcs8.publicKeyDer, pkcs1.publicKeyDer)
  const signer = new gp.Signer('1900000100', v.serial_no, vectorPath(v.key_pkcs8), vectorPath(v.certificate))
  const byKey = gp.Verifier.publicKey('PUB_KEY_ID_01', vectorPath(v.public_key))
  assert.ok(v.cases.length >= 9)
  for (const c of v.cases) {
    const message = Buffer.from(c.message, 'utf8')
    assert.equal(sha256(message), c.sha256)
    assert.equal(pkcs8.sign(message), c.signature, c.name)
    assert.equal(pkcs1.sign(message), c.signature, c.name)
    assert.equal(signer.sign(message), c.signature, c.name)
    const ts = '1700000000'
    const nonce = 'nonce'
    const resigned = pkcs8.sign(gp.messageToVerify(ts, nonce, message))
    const headers = {
      'Wechatpay-Timestamp': ts,
      'Wechatpay-Nonce': nonce,
      'Wechatpay-Serial': 'PUB_KEY_ID_01',
      'Wechatpay-Signature': resigned
    }
    assert.equal(byKey.verify(headers, message, { now: 1700000000 }).serial, 'PUB_KEY_ID_01')
    assert.throws(() => byKey.verify(headers, Buffer.concat([message, Buffer.from('x')]), { now: 1700000000 }),
      (e) => e instanceof gp.SignatureError && e.kind === 'signature_invalid')
  }
  assert.throws(() => new gp.Signer('1900000100', '0ABC1234', vectorPath(v.key_pkcs8), vectorPath(v.certificate)),
    gp.ConfigurationError)
})

test('authorization headers are byte exact', () => {
  const v = load('authorization.json')
  const key = gp.PrivateKey.fromPem(vectorPath(v.private_key))
  for (const c of v.cases) {
    let signature = 'SIG'
    if (c.signature !== 'SIG') {
      signature = key.sign(c.message)
      assert.equal(signature, c.signature, c.name)
    }
    const auth = { mchid: c.mchid, nonceStr: c.nonce, timestamp: Number(c.timestamp), serialNo: c.serial_no, signature }
    assert.equal(gp.authorizationHeader(auth), c.expected, c.name)
    assert.deepEqual(gp.parseAuthorization(c.expected), auth, c.name)
  }
  const c = v.cases.find((x) => x.signature !== 'SIG')
  const signer = new gp.Signer(c.mchid, c.serial_no, vectorPath(v.private_key))
  const body = Buffer.from('{"sub_mchid":"1900000109","operation_type":"OPEN"}')
  const signed = signer.signRequest('post', '/v3/goldplan/merchants/changegoldplanstatus?', body, 1700000000)
  assert.equal(signed.method, 'POST')
  assert.equal(signed.canonicalUrl, '/v3/goldplan/merchants/changegoldplanstatus')
  assert.equal(signed.authorization.timestamp, 1700000000)
  assert.equal(signed.authorization.nonceStr.length, 32)
  assert.equal(signed.authorizationHeader, gp.authorizationHeader(signed.authorization))
  const message = gp.messageToSign('POST', signed.canonicalUrl, 1700000000, signed.authorization.nonceStr, body)
  assert.equal(signed.authorization.signature, signer.sign(message))
})

test('AEAD vectors decrypt, encrypt and reject tampering', () => {
  const v = load('aead.json')
  for (const c of v.cases) {
    const plain = gp.aeadDecrypt(v.key, c.associated_data, c.nonce, c.ciphertext)
    assert.deepEqual(plain, Buffer.from(c.plaintext, 'utf8'), c.name)
    assert.equal(gp.aeadEncrypt(v.key, c.associated_data, c.nonce, c.plaintext), c.ciphertext, c.name)
  }
  assert.ok(v.negative.length >= 5)
  for (const c of v.negative) {
    assert.throws(() => gp.aeadDecrypt(c.key ?? v.key, c.associated_data, c.nonce, c.ciphertext),
      (e) => e instanceof gp.GoldPlanError && e.kind === c.expect_error && e.family === gp.ERROR_FAMILIES[c.expect_error], c.name)
  }
})

test('notification vectors verify and decrypt; negatives get typed errors and acknowledgements', () => {
  const v = load('notification.json')
  const verifier = gp.Verifier.publicKey(v.public_key_id, v.public_key_pem)
  for (const c of v.cases) {
    assert.equal(c.expect.valid, true)
    const e = c.expect
    if (c.kind === 'notification') {
      const n = verifier.notificationParser(v.apiv3_key, { now: c.now }).parse(c.headers, Buffer.from(c.body, 'utf8'))
      assert.equal(n.id, e.id, c.name)
      assert.equal(n.eventType, e.event_type)
      assert.equal(n.resourceType, e.resource_type)
      assert.equal(n.createTime, e.create_time)
      assert.equal(n.summary, e.summary)
      assert.equal(n.originalType, e.original_type)
      assert.equal(n.plaintext, e.plaintext)
      assert.equal(n.serial, v.public_key_id)
      assert.equal(n.json().trade_state, 'SUCCESS')
      assert.ok(!inspect(n).includes(e.plaintext), 'inspect shows no decrypted resource')
    } else {
      assert.equal(c.kind, 'response')
      const verified = verifier.verify(Object.entries(c.headers), Buffer.from(c.body, 'utf8'), { now: c.now })
      assert.equal(verified.timestamp, 1700000000, c.name)
    }
  }
  assert.ok(v.negative.length >= 8)
  for (const c of v.negative) {
    const parser = verifier.notificationParser(c.apiv3_key ?? v.apiv3_key, { now: c.now })
    let caught
    assert.throws(() => parser.parse(c.headers, Buffer.from(c.body, 'utf8')), (e) => { caught = e; return true })
    assert.equal(caught.kind, c.expect_error, c.name)
    assert.ok(caught instanceof gp.GoldPlanError)
    assert.equal(caught.family, gp.ERROR_FAMILIES[c.expect_error], c.name)
    const ack = gp.acknowledgement(caught)
    assert.ok([400, 401].includes(ack.status), c.name)
    assert.equal(JSON.parse(ack.body).code, 'FAIL')
  }
  assert.equal(gp.acknowledgement().status, 200)
  assert.equal(gp.acknowledgement().body, '')
})

test('sensitive vectors decrypt and round-trip', () => {
  const v = load('sensitive.json')
  const key = gp.PrivateKey.fromPem(vectorPath(v.private_key))
  const enc = gp.EncryptionKey.fromPublicKey('PUB_KEY_ID_1', vectorPath(v.public_key))
  assert.equal(v.max_plaintext_len, gp.MAX_SENSITIVE_PLAINTEXT_LEN)
  assert.equal(enc.maxPlaintextLen, v.max_plaintext_len)
  assert.equal(enc.wechatpaySerial, 'PUB_KEY_ID_1')
  for (const c of v.cases) {
    assert.equal(gp.decryptSensitive(key, c.ciphertext), c.plaintext)
    assert.equal(gp.decryptSensitive(vectorPath(v.private_key), c.ciphertext), c.plaintext)
    assert.equal(Buffer.byteLength(c.plaintext), c.plaintext_len)
    const again = enc.encrypt(c.plaintext)
    assert.notEqual(again, c.ciphertext, 'OAEP is randomised')
    assert.equal(gp.decryptSensitive(key, again), c.plaintext)
  }
  assert.throws(() => enc.encrypt('x'.repeat(v.max_plaintext_len + 1)), gp.InvalidInputError)
  assert.equal(enc.encrypt(''), '')
  assert.throws(() => gp.decryptSensitive(key, Buffer.alloc(256, 1).toString('base64')), gp.DecryptionError)
})

test('receipt vectors', () => {
  const v = load('receipt.json')
  const check = (c) => {
    const args = [c.configured_link, c.sub_mch_id, c.out_trade_no, c.transaction_id]
    assert.equal(gp.checkCodeInput(...args), c.string_to_hash, c.name)
    assert.equal(gp.expectedCheckCode(...args), c.expected_check_code, c.name)
    const verdict = gp.verifyCheckCode(...args, c.check_code)
    // The deprecated former name answers the same.
    assert.equal(gp.verifyReceiptCheckCode(...args, c.check_code), verdict, c.name)
    return verdict
  }
  for (const c of v.cases) assert.equal(check(c), true, c.name)
  for (const c of v.negative) assert.equal(check(c), false, c.name)
  for (const c of v.urls) {
    const p = gp.parseReceiptQuery(c.url)
    for (const [field, js] of [['sub_mch_id', 'subMchId'], ['out_trade_no', 'outTradeNo'], ['check_code', 'checkCode']]) {
      assert.equal(p[js].raw, c[field].raw, `${c.name} ${field}`)
      assert.equal(p[js].decoded, c[field].decoded, `${c.name} ${field}`)
    }
  }
  assert.throws(() => gp.parseReceiptQuery('https://x/r?sub_mch_id=1&out_trade_no=2'), gp.InvalidInputError)
})

test('certificate download is decrypted, matched and verified', () => {
  const v = load('certificates.json')
  const r = v.response
  const got = gp.decryptCertificates(r.headers, r.body, v.apiv3_key, { now: v.now })
  assert.deepEqual(got.dropped, [])
  const bySerial = new Map(got.certificates.map((c) => [c.serialNo, c]))
  assert.equal(bySerial.size, v.expect.length)
  for (const e of v.expect) {
    const cert = bySerial.get(e.serial_no)
    assert.equal(cert.notBefore, e.not_before_unix)
    assert.equal(cert.notAfter, e.not_after_unix)
    const onDisk = gp.parseCertificate(vectorPath(e.certificate))
    assert.equal(onDisk.serialNo, e.serial_no)
    assert.equal(onDisk.notAfter, cert.notAfter)
  }
  assert.equal(got.newest.serialNo, v.newest_serial)
  for (const c of v.negative) {
    const rr = c.response
    const trusted = (c.trusted_certificates ?? []).map(vectorPath)
    const call = () => gp.decryptCertificates(rr.headers, Buffer.from(rr.body, 'utf8'), v.apiv3_key, { trusted, now: v.now })
    if (c.expect_error === null) {
      const result = call()
      assert.deepEqual(result.certificates.map((x) => x.serialNo), c.expect_serials, c.name)
      assert.equal(result.dropped.length, 1, c.name)
    } else {
      assert.throws(call, (e) => e instanceof gp.GoldPlanError && e.kind === c.expect_error, c.name)
    }
  }
})

// A private key (whole, its body on one line and as lines, and whole with one line corrupted) and
// the APIv3 key, fed into every setting of the Client and every argument of the sans-IO helpers:
// no error (message, stack, util.inspect) shows any `window` consecutive characters of them.
test('secret sweep: no setting or argument echoes a misplaced secret', () => {
  // Written by hand without a format_version (tests/vectors/README.md), so not through loadVector.
  READ.add('secret_sweep.json')
  const sweep = JSON.parse(readFileSync(path.join(VECTORS, 'secret_sweep.json'), 'utf8'))
  const n = load('notification.json')
  const windows = new Set()
  const addWindows = (secret) => {
    for (let i = 0; i + sweep.window <= secret.length; i++) windows.add(secret.slice(i, i + sweep.window))
  }
  sweep.must_not_appear.forEach(addWindows)
  const assertNoSecret = (what, e) => {
    assert.ok(e instanceof gp.GoldPlanError, `${what}: ${e && e.stack}`)
    const shown = [String(e), e.message, e.stack, inspect(e, { showHidden: true, depth: 8 }), JSON.stringify(e)].join('\n')
    for (const w of windows) assert.ok(!shown.includes(w), `${what}: ${JSON.stringify(w)} echoed in ${shown}`)
  }
  const lines = sweep.values.private_key_pem.split('\n')
  // One character of a body line replaced: the PEM is no longer base64, every other line intact.
  lines[3] = lines[3].slice(0, 10) + '*' + lines[3].slice(11)
  addWindows(lines[3])
  const values = { ...sweep.values, private_key_pem_corrupted: lines.join('\n') }

  const keyFile = vectorPath('keys/merchant_test_key.pem')
  const valid = {
    baseUrl: 'http://127.0.0.1:9',
    mchid: '1900000100',
    serialNo: '3775B6A45ACD588826D15E583A95F5DD12345678',
    privateKey: keyFile,
    apiv3Key: n.apiv3_key,
    publicKeyId: n.public_key_id,
    publicKey: n.public_key_pem,
    mode: 'public_key'
  }
  assert.equal(new gp.Client(valid).mode, 'public_key')
  // The core's setting → every Client option that spells it (null: Client.fromFile's path).
  const OPTIONS = {
    mode: ['mode'],
    mchid: ['mchid'],
    serial_no: ['serialNo'],
    public_key_id: ['publicKeyId'],
    base_url: ['baseUrl'],
    timeout: ['timeout', 'timeoutSecs'],
    connect_timeout: ['connectTimeout', 'connectTimeoutSecs'],
    proxy: ['proxy'],
    max_attempts: ['maxAttempts'],
    max_skew_secs: ['maxSkewSecs'],
    max_response_body: ['maxResponseBody'],
    private_key: ['privateKey', 'privateKeyPem', 'privateKeyPath'],
    merchant_certificate: ['merchantCertificate', 'certificate', 'certificatePem'],
    public_key: ['publicKey', 'publicKeyPem', 'publicKeyPath'],
    apiv3_key: ['apiv3Key'],
    config_path: null
  }
  assert.deepEqual(Object.keys(OPTIONS).sort(), [...sweep.fields].sort())

  const signer = new gp.Signer(valid.mchid, valid.serialNo, keyFile)
  const verifier = gp.Verifier.publicKey(n.public_key_id, n.public_key_pem)
  const cert = vectorPath('keys/platform_test_cert.pem')
  const nonce = '0123456789ab'
  let checked = 0
  for (const [name, text] of Object.entries(values)) {
    for (const value of [text, Buffer.from(text, 'utf8')]) {
      const given = `${name} (${typeof value === 'string' ? 'string' : 'Buffer'})`
      const attempts = []
      for (const [field, options] of Object.entries(OPTIONS)) {
        if (options === null) {
          attempts.push([`Client.fromFile ${given}`, () => gp.Client.fromFile(value)])
          continue
        }
        for (const option of options) {
          const config = { ...valid }
          for (const o of options) delete config[o]
          config[option] = value
          attempts.push([`Client option ${option} (${field}) ${given}`, () => new gp.Client(config)])
        }
      }
      attempts.push(
        [`PrivateKey.fromPem ${given}`, () => gp.PrivateKey.fromPem(value)],
        [`decryptSensitive ${given}`, () => gp.decryptSensitive(value, 'AAAA')],
        [`Signer mchid ${given}`, () => new gp.Signer(value, valid.serialNo, keyFile)],
        [`Signer serialNo ${given}`, () => new gp.Signer(valid.mchid, value, keyFile)],
        [`Signer privateKey ${given}`, () => new gp.Signer(valid.mchid, valid.serialNo, value)],
        [`Signer certificate ${given}`, () => new gp.Signer(valid.mchid, valid.serialNo, keyFile, value)],
        [`Signer.signRequest path ${given}`, () => signer.signRequest('GET', value)],
        [`Verifier.publicKey keyId ${given}`, () => gp.Verifier.publicKey(value, n.public_key_pem)],
        [`Verifier.publicKey publicKey ${given}`, () => gp.Verifier.publicKey(n.public_key_id, value)],
        [`Verifier.certificates ${given}`, () => gp.Verifier.certificates([value])],
        [`Verifier.combined publicKey ${given}`, () => gp.Verifier.combined(n.public_key_id, value, [cert])],
        [`Verifier.combined certificates ${given}`, () => gp.Verifier.combined(n.public_key_id, n.public_key_pem, [cert, value])],
        [`Verifier.notificationParser ${given}`, () => verifier.notificationParser(value)],
        [`EncryptionKey.fromPublicKey keyId ${given}`, () => gp.EncryptionKey.fromPublicKey(value, n.public_key_pem)],
        [`EncryptionKey.fromPublicKey publicKey ${given}`, () => gp.EncryptionKey.fromPublicKey(n.public_key_id, value)],
        [`EncryptionKey.fromCertificate ${given}`, () => gp.EncryptionKey.fromCertificate(value)],
        [`parseCertificate ${given}`, () => gp.parseCertificate(value)],
        [`decryptCertificates apiv3Key ${given}`, () => gp.decryptCertificates({}, '{}', value)],
        [`decryptCertificates trusted ${given}`, () => gp.decryptCertificates({}, '{}', n.apiv3_key, { trusted: [value] })],
        [`decryptCertificates publicKey ${given}`, () => gp.decryptCertificates({}, '{}', n.apiv3_key, { publicKeyId: n.public_key_id, publicKey: value })],
        [`aeadEncrypt ${given}`, () => gp.aeadEncrypt(value, '', nonce, 'x')],
        [`aeadDecrypt ${given}`, () => gp.aeadDecrypt(value, '', nonce, 'AAAA')],
        [`parseAuthorization ${given}`, () => gp.parseAuthorization(value)]
      )
      for (const [what, attempt] of attempts) {
        let error
        try {
          attempt()
        } catch (e) {
          error = e
        }
        if (error !== undefined) {
          assertNoSecret(what, error)
          checked++
        }
      }
    }
  }
  assert.ok(checked >= 200, `only ${checked} misplaced secrets were refused`)
})

test('pay-sign vectors: requestPayment signs exactly the P1 message', async () => {
  const v = load('payments.json')
  assert.ok(v.cases.length >= 1)
  assert.ok(v.negative.length >= 2)
  const sandbox = await Sandbox.start({ mode: 'public_key' })
  try {
    const client = sandbox.client()
    const merchantPublic = createPublicKey(sandbox.info.private_key_pem)
    for (const c of v.cases) {
      // The vector's own fields agree with each other before the binding is asked.
      assert.equal(c.package, `prepay_id=${c.prepay_id}`, c.name)
      assert.equal(Buffer.byteLength(c.message, 'utf8'), c.len, c.name)
      assert.equal(sha256(Buffer.from(c.message, 'utf8')), c.sha256, c.name)

      await sandbox.clearRequests()
      const reply = await client.requestPayment(c.app_id, c.prepay_id, c.nonce_str, Number(c.time_stamp))
      const r = reply.data
      assert.deepEqual(Object.keys(r).sort(), ['appId', 'nonceStr', 'package', 'paySign', 'signType', 'timeStamp'], c.name)
      assert.equal(r.appId, c.app_id, c.name)
      assert.equal(r.timeStamp, c.time_stamp, c.name)
      assert.equal(r.nonceStr, c.nonce_str, c.name)
      assert.equal(r.package, c.package, c.name)
      assert.equal(r.signType, 'RSA', c.name)
      const message = `${r.appId}\n${r.timeStamp}\n${r.nonceStr}\n${r.package}\n`
      assert.equal(message, c.message, c.name)
      assert.equal(sha256(Buffer.from(message, 'utf8')), c.sha256, c.name)
      for (const n of v.negative) {
        assert.notEqual(message, n.message, `${c.name} vs ${n.name}`)
        assert.notEqual(sha256(Buffer.from(message, 'utf8')), n.sha256, `${c.name} vs ${n.name}`)
      }
      // paySign is SHA256withRSA over exactly that message with the merchant key (the sandbox
      // generates its own merchant key, so checked with Node's crypto rather than the P1
      // signature of signing.json).
      const verify = createVerify('RSA-SHA256')
      verify.update(Buffer.from(c.message, 'utf8'))
      assert.ok(verify.verify(merchantPublic, r.paySign, 'base64'), `${c.name}: paySign does not verify`)
      for (const n of v.negative) {
        const wrong = createVerify('RSA-SHA256')
        wrong.update(Buffer.from(n.message, 'utf8'))
        assert.equal(wrong.verify(merchantPublic, r.paySign, 'base64'), false, `${c.name}: paySign verifies ${n.name}`)
      }
      // Signing is local: nothing reaches the gateway.
      assert.deepEqual(await sandbox.requests(), [], `${c.name}: requestPayment sent a request`)
    }
  } finally {
    await sandbox.stop()
  }
})

test('every vector file is read by this suite', () => {
  // Runs last (tests in a file run in order): a vector file nobody reads is a defect.
  const present = readdirSync(VECTORS).filter((f) => f.endsWith('.json')).sort()
  assert.deepEqual([...READ].sort(), present)
})

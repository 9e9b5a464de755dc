// One rule, one place: the JavaScript layer shapes arguments and nothing else. Enum values,
// limits, key files and clashing configuration spellings are the core's, with the core's
// messages; the generated methods send the wire names.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import * as gp from '../index.mjs'
import { Sandbox } from '../testing.mjs'
import { fakeGateway, fakeGatewayOptions, rejection, vectorPath, PKG } from './helpers.mjs'

const SUB = '1900000109'

/** A fake gateway that records each request's path and JSON body and answers 204. */
async function recordingGateway () {
  const seen = []
  const gateway = await fakeGateway((req, body) => {
    seen.push({ method: req.method, url: req.url, body: body.length ? JSON.parse(body.toString('utf8')) : null })
    return { status: 204, body: '' }
  })
  return { gateway, seen }
}

test('generated methods send the wire names; absent optional parameters are left out', async () => {
  const { gateway, seen } = await recordingGateway()
  try {
    const client = new gp.Client(fakeGatewayOptions(gateway.baseUrl))
    await client.openAdvertisingShow(SUB)
    await client.openAdvertisingShow(SUB, null)
    await client.openAdvertisingShow(SUB, ['SOFTWARE'])
    await client.setAdvertisingIndustryFilter(SUB, ['FOOD', 'CAR'])
    await client.closeAdvertisingShow(SUB)
    assert.deepEqual(seen.map((r) => r.body), [
      { sub_mchid: SUB },
      { sub_mchid: SUB },
      { sub_mchid: SUB, advertising_industry_filters: ['SOFTWARE'] },
      { sub_mchid: SUB, advertising_industry_filters: ['FOOD', 'CAR'] },
      { sub_mchid: SUB }
    ])
    assert.deepEqual(seen.map((r) => r.method), ['PATCH', 'PATCH', 'PATCH', 'POST', 'POST'])
  } finally {
    await gateway.close()
  }
})

test('enum values are the core\'s: any case is taken, an unknown one is refused in the core\'s words', async () => {
  const { gateway, seen } = await recordingGateway()
  try {
    const client = new gp.Client(fakeGatewayOptions(gateway.baseUrl))
    await client.setAdvertisingIndustryFilter(SUB, ['software', 'Food'])
    await client.openAdvertisingShow(SUB, ['e_commerce'])
    assert.deepEqual(seen.map((r) => r.body.advertising_industry_filters), [['SOFTWARE', 'FOOD'], ['E_COMMERCE']])
    const before = seen.length
    for (const call of [
      () => client.setAdvertisingIndustryFilter(SUB, ['SPACE']),
      () => client.setAdvertisingIndustryFilter(SUB, ['FOOD', 'CAR', 'LAW', 'GAME']),
      () => client.setAdvertisingIndustryFilter(SUB, []),
      () => client.openAdvertisingShow(SUB, ['FOOD', 'CAR', 'LAW', 'GAME'])
    ]) {
      const e = await rejection(call())
      assert.ok(e instanceof gp.InvalidInputError, `${e.name}: ${e.message}`)
      assert.equal(e.kind, 'invalid_input')
    }
    assert.equal(seen.length, before, 'refused before anything is sent')
  } finally {
    await gateway.close()
  }
  // The sandbox checks the values it receives: a lower-case scene reaches it upper-case.
  const sandbox = await Sandbox.start({ mode: 'public_key' })
  try {
    await sandbox.updateMerchant(sandbox.info.mchid, { receipt_link: 'https://provider.example/receipt' })
    const client = sandbox.client()
    assert.equal((await client.changeGoldPlanStatus(SUB, 'open', 'jsapi')).data.sub_mchid, SUB)
    assert.equal((await client.changeCustomPageStatus(SUB, 'Close')).data.sub_mchid, SUB)
  } finally {
    await sandbox.stop()
  }
})

test('argument shapes stay the facade\'s: wrong JavaScript types are refused by name', async () => {
  const client = new gp.Client(fakeGatewayOptions('http://127.0.0.1:9'))
  for (const [call, name] of [
    [() => client.changeGoldPlanStatus(SUB, 1), /operationType must be a string, not number/],
    [() => client.changeGoldPlanStatus(SUB, 'OPEN', ['JSAPI']), /operationPayScene must be a string, not an array/],
    [() => client.openAdvertisingShow(SUB, 'SOFTWARE'), /advertisingIndustryFilters must be an array of strings, not string/],
    [() => client.setAdvertisingIndustryFilter(SUB, ['FOOD', 7]), /advertisingIndustryFilters\[1\] must be a string, not number/]
  ]) {
    const e = await rejection(call())
    assert.ok(e instanceof gp.InvalidInputError, e.message)
    assert.match(e.message, name)
  }
})

test('the upload limit is the core\'s (5 MiB), not a facade cap', async () => {
  const { gateway, seen } = await recordingGateway()
  try {
    const client = new gp.Client(fakeGatewayOptions(gateway.baseUrl))
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(5 * 1024 * 1024, 1)])
    const e = await rejection(client.uploadImage('big.png', png))
    assert.ok(e instanceof gp.InvalidInputError, `${e.name}: ${e.message}`)
    assert.match(e.message, /5242880|5 MiB|5 MB/)
    assert.equal(seen.length, 0)
  } finally {
    await gateway.close()
  }
})

test('two spellings of one setting reach the core, which refuses them; bytes are text for the core', () => {
  const keyFile = vectorPath('keys/merchant_test_key.pem')
  const pem = readFileSync(keyFile, 'utf8')
  const base = fakeGatewayOptions('http://127.0.0.1:9')
  for (const extra of [
    { privateKeyPem: pem },
    { privateKeyPem: Buffer.from(pem) },
    { privateKeyPath: keyFile }
  ]) {
    for (const privateKey of [pem, Buffer.from(pem), keyFile]) {
      let e
      try {
        // eslint-disable-next-line no-new
        new gp.Client({ ...base, privateKey, ...extra })
      } catch (error) {
        e = error
      }
      assert.ok(e instanceof gp.ConfigurationError, `privateKey + ${Object.keys(extra)[0]} must be refused`)
      assert.match(e.message, /the private key is given more than once \(private_key, private_key_(pem|path)\): keep one/)
      assert.ok(!(e.message + inspect(e)).includes(pem.split('\n')[1]), 'no key in the message')
    }
  }
  for (const [a, b] of [['timeout', 'timeoutSecs'], ['connectTimeout', 'connectTimeoutSecs'], ['publicKey', 'publicKeyPem']]) {
    const value = a.endsWith('imeout') ? 5 : base.publicKey
    assert.throws(() => new gp.Client({ ...base, [a]: value, [b]: value }), (e) => e instanceof gp.ConfigurationError && /more than once/.test(e.message))
  }
  // A Buffer holding a path is a path, as a string holding one is: the core decides.
  assert.equal(new gp.Client({ ...base, privateKey: Buffer.from(keyFile) }).mchid, '1900000100')
  // A key pasted as an option name is not shown.
  const name = pem.split('\n').slice(0, 3).join('\n')
  const e = (() => { try { return new gp.Client({ ...base, [name]: 'x' }) } catch (error) { return error } })()
  assert.ok(e instanceof gp.ConfigurationError, String(e))
  assert.ok(!e.message.includes(pem.split('\n')[1]), e.message)
  assert.match(new gp.Client({ ...base }).mode, /public_key/)
  assert.throws(() => new gp.Client({ ...base, privateKeyTypo: 'x' }), /unknown Client option "privateKeyTypo"/)
})

test('refreshCertificates resolves to the trusted certificates, as platformCertificates lists them', async () => {
  const sandbox = await Sandbox.start({ mode: 'certificate' })
  try {
    const client = sandbox.client()
    const refreshed = await client.refreshCertificates()
    assert.ok(refreshed.length >= 1)
    assert.deepEqual(refreshed, client.platformCertificates())
    assert.deepEqual(Object.keys(refreshed[0]).sort(), ['notAfter', 'notBefore', 'pem', 'serialNo'])
  } finally {
    await sandbox.stop()
  }
  const publicKeyOnly = await Sandbox.start({ mode: 'public_key' })
  try {
    assert.deepEqual(await publicKeyOnly.client().refreshCertificates(), [])
  } finally {
    await publicKeyOnly.stop()
  }
})

test('the JavaScript layer keeps no enum list, limit or file reader of its own', () => {
  const source = readFileSync(path.join(PKG, 'index.cjs'), 'utf8')
  for (const gone of ['enumArg', 'MAX_UPLOAD_BYTES', 'readFileSync', 'startsWith(', 'INDUSTRY_TYPES.includes', '.includes(v)']) {
    assert.ok(!source.includes(gone), `index.cjs still has ${gone}`)
  }
})

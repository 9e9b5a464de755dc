'use strict'
// The JS facade of `goldplan`: argument shapes and conversions around the native addon, and
// nothing else. Every behaviour, limit and message is the Rust core's; every typed call crosses
// the core's JSON surface (`callJson`) from a method generated from the core's operation
// registry, and every error goes through `errors.cjs` (`fromNative`).
// `index.mjs` re-exports this module, so ESM and CommonJS share one set of classes and
// `instanceof` works across both.

const path = require('node:path')
const util = require('node:util')

const errors = require('./errors.cjs')
const { fromNative, fromReport, InvalidInputError } = errors

let native
try {
  native = require('./native.cjs')
} catch (e) {
  // No addon for this platform, or its package left out of the install: say which, with the
  // loader's own reasons (its generic advice about an old npm bug does not apply here).
  const platform = `${process.platform}-${process.arch}`
  // Each attempt's first line, without the WebAssembly fallbacks this package does not ship.
  const reasons = []
  for (let c = e && e.cause ? e.cause : e; c && reasons.length < 8; c = c.cause) {
    const line = String(c.message).split('\n')[0]
    if (!/wasi/i.test(line)) reasons.push(line)
  }
  const want = platform === 'linux-x64'
    ? `the platform package goldplan-linux-x64-gnu@${require('./package.json').version} (an optional dependency of goldplan, left out by --omit=optional) is missing or does not load here`
    : `goldplan has no native build for ${platform} (only linux-x64 with glibc)`
  throw new errors.InternalError(
    `goldplan: cannot load the native addon: ${want}` + (reasons.length ? ` [${reasons.join('; ')}]` : ''),
    { kind: 'internal', family: 'internal' }
  )
}

const CONSTANTS = Object.freeze(JSON.parse(native.nativeConstants()))

/** Library version (the Rust core's). */
const VERSION = CONSTANTS.version
/** Every error kind name, and the family of each (decided by the core). */
const ERROR_KINDS = Object.freeze([...CONSTANTS.kinds])
const ERROR_FAMILIES = Object.freeze({ ...CONSTANTS.families })
/** The values the Gold Plan enums accept. */
const OPERATION_TYPES = Object.freeze([...CONSTANTS.operationTypes])
const OPERATION_PAY_SCENES = Object.freeze([...CONSTANTS.operationPayScenes])
const INDUSTRY_TYPES = Object.freeze([...CONSTANTS.industryTypes])
const MAX_INDUSTRY_FILTERS = CONSTANTS.maxIndustryFilters
const MAX_SENSITIVE_PLAINTEXT_LEN = CONSTANTS.maxSensitivePlaintextLen

// ---------------------------------------------------------------------------------------------
// argument checks

function inputError (message, kind = 'invalid_input') {
  return fromReport(JSON.parse(native.inputErrorReport(kind, message)))
}

/** Calls the addon synchronously; any throw becomes a `GoldPlanError`. */
function sync (f) {
  try {
    return f()
  } catch (e) {
    throw fromNative(e)
  }
}

/** Calls the addon asynchronously; a synchronous throw or a rejection becomes a rejection with a `GoldPlanError`. */
async function later (f) {
  try {
    return await f()
  } catch (e) {
    throw fromNative(e)
  }
}

function isBytes (v) {
  return v instanceof Uint8Array || v instanceof ArrayBuffer
}

function toBuffer (v) {
  if (Buffer.isBuffer(v)) return v
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength)
  return Buffer.from(v)
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function bytesToText (v, what) {
  try {
    return utf8.decode(toBuffer(v))
  } catch {
    throw inputError(`${what} is not UTF-8 text`)
  }
}

function requireString (v, what) {
  if (typeof v !== 'string') throw inputError(`${what} must be a string, not ${describeType(v)}`)
  return v
}

function optionalString (v, what) {
  return v === undefined || v === null ? undefined : requireString(v, what)
}

function describeType (v) {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (isBytes(v)) return 'bytes'
  return typeof v
}

/** String or bytes (a Buffer, any Uint8Array) → Buffer. */
function bytesArg (v, what) {
  if (typeof v === 'string') return Buffer.from(v, 'utf8')
  if (isBytes(v)) return toBuffer(v)
  throw inputError(`${what} must be a Buffer or a string, not ${describeType(v)}`)
}

/**
 * A key or certificate as the addon takes it: a string (PEM text or a path: the core decides,
 * reads the file and words the errors, which never show the value) or bytes (PEM text).
 */
function pemArg (v, what) {
  if (typeof v === 'string') return v
  if (isBytes(v)) return toBuffer(v)
  throw inputError(`${what} must be PEM text, a Buffer or a file path, not ${describeType(v)}`)
}

/**
 * Header pairs from what servers give: a plain object (Node's `req.headers`, Express,
 * Fastify, Koa), a `Headers` instance (fetch), a `Map`, an array of `[name, value]` pairs, or
 * Node's flat `req.rawHeaders`. Repeated values stay separate pairs (the core rejects a
 * verification header given twice).
 */
function headerPairs (headers) {
  const names = []
  const values = []
  const push = (n, v, where) => {
    if (typeof n !== 'string') throw inputError(`header names must be strings (${where})`)
    if (v === undefined || v === null) return
    if (Array.isArray(v)) {
      for (const item of v) push(n, item, where)
      return
    }
    if (typeof v === 'number') v = String(v)
    if (isBytes(v)) v = bytesToText(v, `header ${n}`)
    if (typeof v !== 'string') throw inputError(`header ${n} must be a string, not ${describeType(v)}`)
    names.push(n)
    values.push(v)
  }
  if (headers === null || typeof headers !== 'object') {
    throw inputError(`headers must be an object, a Headers instance or an array of pairs, not ${describeType(headers)}`)
  }
  if (Array.isArray(headers)) {
    if (headers.length > 0 && typeof headers[0] === 'string') {
      // req.rawHeaders: [name, value, name, value, …]
      if (headers.length % 2 !== 0) throw inputError('a flat header list must have an even length')
      for (let i = 0; i < headers.length; i += 2) push(headers[i], headers[i + 1], 'rawHeaders')
    } else {
      for (const pair of headers) {
        if (!Array.isArray(pair) || pair.length !== 2) throw inputError('header pairs must be [name, value] arrays')
        push(pair[0], pair[1], 'pairs')
      }
    }
  } else if (typeof headers.entries === 'function' && typeof headers.get === 'function') {
    for (const [n, v] of headers.entries()) push(n, v, 'Headers')
  } else {
    for (const n of Object.keys(headers)) push(n, headers[n], 'object')
  }
  return [names, values]
}

/** A list of strings (which values and how many is the core's rule). */
function requireStringList (v, what) {
  if (!Array.isArray(v)) throw inputError(`${what} must be an array of strings, not ${describeType(v)}`)
  return v.map((item, i) => requireString(item, `${what}[${i}]`))
}

function optionalStringList (v, what) {
  return v === undefined || v === null ? undefined : requireStringList(v, what)
}

function requireBoolean (v, what) {
  if (typeof v !== 'boolean') throw inputError(`${what} must be a boolean, not ${describeType(v)}`)
  return v
}

function optionalBoolean (v, what) {
  return v === undefined || v === null ? undefined : requireBoolean(v, what)
}

function requireInteger (v, what) {
  if (!Number.isSafeInteger(v)) throw inputError(`${what} must be a whole number, not ${describeType(v)}`)
  return v
}

function optionalInteger (v, what) {
  return v === undefined || v === null ? undefined : requireInteger(v, what)
}

/** Any JSON value, sent as is; absent (`undefined` or `null`) leaves the member out. */
function jsonArg (v) {
  return v ?? undefined
}

function integerArg (v, what) {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw inputError(`${what} must be an integer`)
  return v
}

// ---------------------------------------------------------------------------------------------
// configuration

/** Option name (camelCase) → core configuration name, for the options given as is. */
const PLAIN_OPTIONS = {
  baseUrl: ['base_url', 'string'],
  mchid: ['mchid', 'string'],
  serialNo: ['serial_no', 'string'],
  publicKeyId: ['public_key_id', 'string'],
  mode: ['mode', 'string'],
  timeout: ['timeout', 'number'],
  timeoutSecs: ['timeout_secs', 'number'],
  connectTimeout: ['connect_timeout', 'number'],
  connectTimeoutSecs: ['connect_timeout_secs', 'number'],
  proxy: ['proxy', 'string'],
  maxAttempts: ['max_attempts', 'number'],
  maxSkewSecs: ['max_skew_secs', 'number'],
  maxResponseBody: ['max_response_body', 'number'],
  certificateStore: ['certificate_store', 'string'],
  rateLimit: ['rate_limit', 'object']
}
/**
 * Key options → core configuration name. Each option is its own core spelling, so that two
 * spellings of one setting reach the core, which refuses them; the core also tells PEM text from
 * a path (its `*_pem` names take text only, its `*_path` names a path only) and reads the files
 * (relative paths from the working directory). Bytes are decoded as UTF-8 and sent as text: the
 * core finds the PEM in them. `certificate` is this facade's own alias of `merchantCertificate`.
 */
const KEY_OPTIONS = {
  privateKey: 'private_key',
  privateKeyPem: 'private_key_pem',
  privateKeyPath: 'private_key_path',
  merchantCertificate: 'merchant_certificate',
  certificate: 'merchant_certificate',
  certificatePem: 'certificate_pem',
  publicKey: 'public_key',
  publicKeyPem: 'public_key_pem',
  publicKeyPath: 'public_key_path'
}
/** Options that name a file and nothing else. */
const PATH_OPTIONS = ['privateKeyPath', 'publicKeyPath']
const ALL_OPTIONS = [...Object.keys(PLAIN_OPTIONS), ...Object.keys(KEY_OPTIONS), 'apiv3Key']

/** `{ perSecond: 1 }` → `{ per_second: 1 }` (one level: option objects are flat). */
function snakeCaseKeys (object) {
  const out = {}
  for (const [key, value] of Object.entries(object)) out[key.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())] = value
  return out
}

/** The core's configuration JSON from the constructor's options. */
function configJson (options) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw inputError(`Client options must be an object, not ${describeType(options)}`, 'configuration')
  }
  const config = {}
  // Which option set each core name: only this facade's alias `certificate` shares one with
  // `merchantCertificate`, and the core cannot see two options that arrive as one member.
  const setBy = {}
  const set = (option, field, value) => {
    if (setBy[field] !== undefined) {
      throw inputError(`options ${setBy[field]} and ${option} give the same setting: keep one`, 'configuration')
    }
    setBy[field] = option
    config[field] = value
  }
  for (const name of Object.keys(options)) {
    const value = options[name]
    if (value === undefined) continue
    if (!ALL_OPTIONS.includes(name)) {
      // An option name is shown only when it looks like one: a key pasted as a name is not.
      const shown = /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(name) ? JSON.stringify(name) : `(a name of ${name.length} characters)`
      throw inputError(`unknown Client option ${shown}; the options are ${ALL_OPTIONS.join(', ')}`, 'configuration')
    }
    const plain = PLAIN_OPTIONS[name]
    const key = KEY_OPTIONS[name]
    if (plain) {
      if (typeof value !== plain[1] || (plain[1] === 'object' && (value === null || Array.isArray(value)))) {
        throw inputError(`option ${name} must be ${plain[1] === 'object' ? 'an' : 'a'} ${plain[1]}, not ${describeType(value)}`)
      }
      // An option object's members are named in camelCase too (rateLimit.perSecond).
      set(name, plain[0], plain[1] === 'object' ? snakeCaseKeys(value) : value)
    } else if (value === null) {
      continue
    } else if (key) {
      if (typeof value === 'string') set(name, key, value)
      else if (PATH_OPTIONS.includes(name)) throw inputError(`option ${name} must be a string, not ${describeType(value)}`)
      else if (isBytes(value)) set(name, key, bytesToText(value, name))
      else throw inputError(`option ${name} must be PEM text, a Buffer or a file path, not ${describeType(value)}`)
    } else {
      if (typeof value === 'string') set(name, 'apiv3_key', value)
      else if (isBytes(value)) set(name, 'apiv3_key', bytesToText(value, 'apiv3Key'))
      else throw inputError(`option apiv3Key must be a string or a Buffer, not ${describeType(value)}`)
    }
  }
  return JSON.stringify(config)
}

const USER_AGENT_SUFFIX = `goldplan-node/${VERSION} Node/${process.versions.node}`

// ---------------------------------------------------------------------------------------------
// results

/** A verified, decrypted callback. `util.inspect` omits the decrypted resource. */
class Notification {
  constructor (n) {
    this.id = n.id
    this.createTime = n.createTime
    this.eventType = n.eventType
    this.resourceType = n.resourceType
    this.summary = n.summary ?? undefined
    this.originalType = n.originalType ?? undefined
    this.requestId = n.requestId ?? undefined
    this.serial = n.serial
    // Not enumerable: the decrypted resource stays out of logs that print the object.
    Object.defineProperty(this, 'plaintext', { value: n.plaintext, enumerable: false })
  }

  /** The decrypted resource, parsed as JSON. */
  json () {
    try {
      return JSON.parse(this.plaintext)
    } catch {
      throw inputError('the decrypted resource is not JSON', 'invalid_input')
    }
  }

  [util.inspect.custom] () {
    return `Notification { id: ${JSON.stringify(this.id)}, eventType: ${JSON.stringify(this.eventType)}, createTime: ${JSON.stringify(this.createTime)}, serial: ${JSON.stringify(this.serial)} }`
  }
}

/**
 * The HTTP answer to give WeChat Pay for a callback (spec §4.3): `acknowledgement()` is the
 * success answer; `acknowledgement(error)` the answer the error's kind calls for (a replay is
 * acknowledged with success; an unauthentic callback gets 401; anything that is not a
 * `GoldPlanError` a 500).
 */
function acknowledgement (error) {
  let kind
  if (error !== undefined && error !== null) {
    kind = error instanceof errors.GoldPlanError ? error.kind : 'internal'
  }
  const ack = native.acknowledgement(kind)
  return {
    status: ack.status,
    body: ack.body,
    headers: ack.body ? { 'content-type': 'application/json' } : {}
  }
}

function reply (r) {
  return { data: JSON.parse(r.json), requestId: r.requestId ?? undefined }
}

// ---------------------------------------------------------------------------------------------
// the client

/**
 * The WeChat Pay APIv3 client. Every network call returns a Promise; signing, verification
 * and I/O run on the addon's threads, never on the event loop.
 */
let nativeClientOf

class Client {
  #native

  static {
    // For `bulk` (bulk.cjs): the native client of a `Client`.
    nativeClientOf = (client) => {
      if (!(client instanceof Client)) throw inputError('client must be a goldplan Client')
      return client.#native
    }
  }

  /**
   * @param {object} options the core's configuration names in camelCase; keys as PEM
   *   text, Buffers or file paths.
   */
  constructor (options) {
    if (options instanceof native.NativeClient) {
      this.#native = options
      return
    }
    const json = configJson(options)
    this.#native = sync(() => new native.NativeClient(json, process.cwd(), USER_AGENT_SUFFIX))
  }

  /** A client from a JSON configuration file (core names, e.g. a sandbox's `sandbox.json`). */
  static fromFile (file) {
    requireString(file, 'path')
    return new Client(sync(() => native.NativeClient.fromFile(path.resolve(file), USER_AGENT_SUFFIX)))
  }

  /** Merchant id. */
  get mchid () { return this.#native.info().mchid }
  /** Gateway base URL. */
  get baseUrl () { return this.#native.info().baseUrl }
  /** `certificate`, `public_key` or `combined`. */
  get mode () { return this.#native.info().mode }
  /** The User-Agent sent with every request. */
  get userAgent () { return this.#native.info().userAgent }

  #call (operation, args) {
    return later(() => this.#native.callJson(operation, JSON.stringify(args))).then(reply)
  }

  // goldplan-codegen:begin operations (generated by `cargo run -p goldplan-codegen` from the operation registry: do not edit by hand)
  /**
   * 点金计划管理: opens or closes Gold Plan for a special merchant (without a scene, JSAPI only).
   *
   * @param {string} subMchid Special merchant id.
   * @param {string} operationType OPEN or CLOSE.
   * @param {string} [operationPayScene] The payment scenes it applies to (WeChat Pay's default: JSAPI). Absent is left out of the body, never sent as `null`.
   * @returns {Promise<{ data: object, requestId?: string }>}
   */
  changeGoldPlanStatus (subMchid, operationType, operationPayScene) {
    return later(async () => this.#call('change_gold_plan_status', {
      sub_mchid: requireString(subMchid, 'subMchid'),
      operation_type: requireString(operationType, 'operationType'),
      operation_pay_scene: optionalString(operationPayScene, 'operationPayScene')
    }))
  }

  /**
   * 商家小票管理: turns the merchant receipt on or off for a special merchant.
   *
   * @param {string} subMchid Special merchant id.
   * @param {string} operationType OPEN enables the merchant receipt, CLOSE disables it.
   * @returns {Promise<{ data: object, requestId?: string }>}
   */
  changeCustomPageStatus (subMchid, operationType) {
    return later(async () => this.#call('change_custom_page_status', {
      sub_mchid: requireString(subMchid, 'subMchid'),
      operation_type: requireString(operationType, 'operationType')
    }))
  }

  /**
   * 同业过滤标签管理: replaces the industry filter (1 to 3 tags).
   *
   * @param {string} subMchid Special merchant id.
   * @param {string[]} advertisingIndustryFilters 1 to 3 industry tags.
   * @returns {Promise<{ data: null, requestId?: string }>}
   */
  setAdvertisingIndustryFilter (subMchid, advertisingIndustryFilters) {
    return later(async () => this.#call('set_advertising_industry_filter', {
      sub_mchid: requireString(subMchid, 'subMchid'),
      advertising_industry_filters: requireStringList(advertisingIndustryFilters, 'advertisingIndustryFilters')
    }))
  }

  /**
   * 开通广告展示: turns ad display on, optionally with up to 3 industry filters.
   *
   * @param {string} subMchid Special merchant id.
   * @param {string[]} [advertisingIndustryFilters] At most 3 industry tags; absent or empty, the key is left out of the body.
   * @returns {Promise<{ data: null, requestId?: string }>}
   */
  openAdvertisingShow (subMchid, advertisingIndustryFilters) {
    return later(async () => this.#call('open_advertising_show', {
      sub_mchid: requireString(subMchid, 'subMchid'),
      advertising_industry_filters: optionalStringList(advertisingIndustryFilters, 'advertisingIndustryFilters')
    }))
  }

  /**
   * 关闭广告展示: turns ad display off.
   *
   * @param {string} subMchid Special merchant id.
   * @returns {Promise<{ data: null, requestId?: string }>}
   */
  closeAdvertisingShow (subMchid) {
    return later(async () => this.#call('close_advertising_show', {
      sub_mchid: requireString(subMchid, 'subMchid')
    }))
  }

  /**
   * JSAPI下单 (partner): creates an order for a special merchant and answers the prepay_id a pay-sign needs.
   *
   * @param {string} spAppid An AppID bound to the provider.
   * @param {string} spMchid The provider's merchant id: the client's own `mchid`.
   * @param {string} subMchid The special merchant the order belongs to.
   * @param {string} description Shown in the payer's bill (at most 127 characters).
   * @param {string} outTradeNo The merchant order number: 6 to 32 of `0-9 A-Z a-z _ - | *`, unique.
   * @param {string} notifyUrl Where the payment notification goes: `https://` (or `http://` to a loopback host), no query string, at most 255 characters.
   * @param {*} amount `{total, currency?}`: the amount in fen.
   * @param {*} payer `{sp_openid}` or `{sub_openid}`: exactly one.
   * @param {string} [attach] Merchant data echoed by the query and the notification once paid (at most 128).
   * @param {*} [detail] `{cost_price?, invoice_id?, goods_detail?}`.
   * @param {string} [goodsTag] Coupon or discount tag.
   * @param {string[]} [limitPay] Funding sources the payer may not use.
   * @param {*} [sceneInfo] `{payer_client_ip, device_id?, store_info?}`.
   * @param {*} [settleInfo] `{profit_sharing?}`.
   * @param {string} [subAppid] An AppID bound to the special merchant; required with `payer.sub_openid`.
   * @param {boolean} [supportFapiao] Whether an e-invoice entry is shown after payment.
   * @param {string} [timeExpire] The last moment the payer may pay, RFC 3339 (not in the past).
   * @returns {Promise<{ data: object, requestId?: string }>}
   */
  jsapiPrepay (spAppid, spMchid, subMchid, description, outTradeNo, notifyUrl, amount, payer, attach, detail, goodsTag, limitPay, sceneInfo, settleInfo, subAppid, supportFapiao, timeExpire) {
    return later(async () => this.#call('jsapi_prepay', {
      sp_appid: requireString(spAppid, 'spAppid'),
      sp_mchid: requireString(spMchid, 'spMchid'),
      sub_mchid: requireString(subMchid, 'subMchid'),
      description: requireString(description, 'description'),
      out_trade_no: requireString(outTradeNo, 'outTradeNo'),
      notify_url: requireString(notifyUrl, 'notifyUrl'),
      amount: jsonArg(amount, 'amount'),
      payer: jsonArg(payer, 'payer'),
      attach: optionalString(attach, 'attach'),
      detail: jsonArg(detail, 'detail'),
      goods_tag: optionalString(goodsTag, 'goodsTag'),
      limit_pay: optionalStringList(limitPay, 'limitPay'),
      scene_info: jsonArg(sceneInfo, 'sceneInfo'),
      settle_info: jsonArg(settleInfo, 'settleInfo'),
      sub_appid: optionalString(subAppid, 'subAppid'),
      support_fapiao: optionalBoolean(supportFapiao, 'supportFapiao'),
      time_expire: optionalString(timeExpire, 'timeExpire')
    }))
  }

  /**
   * 商户订单号查询订单 (partner): the order in any state; 404 ORDER_NOT_EXIST when there is none.
   *
   * @param {string} outTradeNo The merchant order number (sent in the path).
   * @param {string} spMchid The provider's merchant id.
   * @param {string} subMchid The special merchant.
   * @returns {Promise<{ data: object, requestId?: string }>}
   */
  queryOrderByOutTradeNo (outTradeNo, spMchid, subMchid) {
    return later(async () => this.#call('query_order_by_out_trade_no', {
      out_trade_no: requireString(outTradeNo, 'outTradeNo'),
      sp_mchid: requireString(spMchid, 'spMchid'),
      sub_mchid: requireString(subMchid, 'subMchid')
    }))
  }

  /**
   * 微信支付订单号查询订单 (partner): a paid order; 404 ORDER_NOT_EXIST otherwise.
   *
   * @param {string} transactionId The WeChat Pay order number (sent in the path).
   * @param {string} spMchid The provider's merchant id.
   * @param {string} subMchid The special merchant.
   * @returns {Promise<{ data: object, requestId?: string }>}
   */
  queryOrderByTransactionId (transactionId, spMchid, subMchid) {
    return later(async () => this.#call('query_order_by_transaction_id', {
      transaction_id: requireString(transactionId, 'transactionId'),
      sp_mchid: requireString(spMchid, 'spMchid'),
      sub_mchid: requireString(subMchid, 'subMchid')
    }))
  }

  /**
   * 关闭订单 (partner): closes an unpaid order (204); a paid order cannot be closed.
   *
   * @param {string} outTradeNo The merchant order number (sent in the path).
   * @param {string} spMchid The provider's merchant id.
   * @param {string} subMchid The special merchant.
   * @returns {Promise<{ data: null, requestId?: string }>}
   */
  closeOrder (outTradeNo, spMchid, subMchid) {
    return later(async () => this.#call('close_order', {
      out_trade_no: requireString(outTradeNo, 'outTradeNo'),
      sp_mchid: requireString(spMchid, 'spMchid'),
      sub_mchid: requireString(subMchid, 'subMchid')
    }))
  }

  /**
   * JSAPI调起支付: the six values a page passes to getBrandWCPayRequest, signed with the merchant key.
   *
   * @param {string} appId The AppID the payer is in: `sub_appid` when the prepay named `sub_openid`, else `sp_appid` (PAYMENTS.md §2.3).
   * @param {string} prepayId The prepay's `prepay_id`.
   * @param {string} [nonceStr] The nonce to sign with (default: 32 fresh random characters); fixed only to reproduce a vector.
   * @param {number} [timeStamp] Unix seconds to sign at (default: now); fixed only to reproduce a vector.
   * @returns {Promise<{ data: object, requestId?: string }>}
   */
  requestPayment (appId, prepayId, nonceStr, timeStamp) {
    return later(async () => this.#call('request_payment', {
      app_id: requireString(appId, 'appId'),
      prepay_id: requireString(prepayId, 'prepayId'),
      nonce_str: optionalString(nonceStr, 'nonceStr'),
      time_stamp: optionalInteger(timeStamp, 'timeStamp')
    }))
  }

  /**
   * The transaction_id a receipt's check_code needs, by one order query within a deadline; null when the order is not paid or unknown.
   *
   * @param {string} subMchId The receipt's `sub_mch_id`.
   * @param {string} outTradeNo The receipt's `out_trade_no`, decoded.
   * @param {number} [timeoutMs] How long the query may take, in milliseconds (default 1000, PAYMENTS.md §6.1).
   * @returns {Promise<{ data: object, requestId?: string }>}
   */
  resolveTransactionId (subMchId, outTradeNo, timeoutMs) {
    return later(async () => this.#call('resolve_transaction_id', {
      sub_mch_id: requireString(subMchId, 'subMchId'),
      out_trade_no: requireString(outTradeNo, 'outTradeNo'),
      timeout_ms: optionalInteger(timeoutMs, 'timeoutMs')
    }))
  }
  // goldplan-codegen:end operations

  /**
   * Sends a signed request to any APIv3 endpoint and verifies the response. `body` is an
   * object (sent as compact JSON), a string or a Buffer (sent byte for byte).
   */
  request (method, pathAndQuery, body, options = {}) {
    return later(async () => {
      const args = { method: requireString(method, 'method'), path: requireString(pathAndQuery, 'path') }
      if (typeof body === 'string') args.body_text = body
      else if (isBytes(body)) args.body_text = bytesToText(body, 'body')
      else if (body !== undefined && body !== null) {
        if (typeof body !== 'object') throw inputError(`body must be an object, a string or a Buffer, not ${describeType(body)}`)
        args.body = body
      }
      if (options === null || typeof options !== 'object') throw inputError('request options must be an object')
      if (options.idempotent !== undefined) {
        if (typeof options.idempotent !== 'boolean') throw inputError('idempotent must be a boolean')
        args.idempotent = options.idempotent
      }
      const serial = optionalString(options.wechatpaySerial, 'wechatpaySerial')
      if (serial !== undefined) args.wechatpay_serial = serial
      const r = await later(() => this.#native.callJson('request', JSON.stringify(args)))
      const v = JSON.parse(r.json)
      return { status: v.status, requestId: v.request_id ?? undefined, serial: v.serial, headers: v.headers, body: v.body }
    })
  }

  /**
   * Uploads an image (JPG, PNG or BMP; the core checks the format and the size before sending);
   * resolves to `{ mediaId, requestId }`.
   */
  uploadImage (filename, data) {
    return later(async () => {
      requireString(filename, 'filename')
      const bytes = bytesArg(data, 'data')
      const r = await this.#call('upload_image', { filename, content_base64: bytes.toString('base64') })
      return { mediaId: r.data.media_id, requestId: r.requestId }
    })
  }

  /**
   * Verifies and decrypts a callback from its headers (as your framework gives them) and its
   * raw body bytes (before any JSON parsing). `replayGuard(id)` (sync or async) is asked, once
   * the callback is authentic and decrypted, whether its id was already processed; `true`
   * rejects with a `ReplayError` (acknowledge it with success), a throw rejects with an
   * `InvalidInputError` whose `cause` is what it threw.
   */
  parseNotification (headers, rawBody, options = {}) {
    return later(async () => {
      const [names, values] = headerPairs(headers)
      const body = bytesArg(rawBody, 'rawBody')
      if (options === null || typeof options !== 'object') throw inputError('parseNotification options must be an object')
      const guard = options.replayGuard
      if (guard !== undefined && guard !== null && typeof guard !== 'function') {
        throw inputError('replayGuard must be a function taking the notification id and returning a boolean')
      }
      const n = new Notification(await later(() => this.#native.parseNotification(names, values, body)))
      if (guard) {
        let seen
        try {
          seen = await guard(n.id)
        } catch (cause) {
          // The guard's own message may hold what it connects to (a database URL): it stays on
          // `cause`, out of a message that gets logged.
          const e = inputError('the replay guard threw; see the cause')
          e.cause = cause
          throw e
        }
        if (seen) throw fromReport(JSON.parse(native.replayReport(n.id)))
      }
      return n
    })
  }

  /** Encrypts a sensitive field; resolves to `{ ciphertext, wechatpaySerial }` (send the serial as `Wechatpay-Serial`). */
  encryptSensitive (plaintext) {
    return later(async () => this.#native.encryptSensitive(requireString(plaintext, 'plaintext')))
  }

  /** Decrypts a sensitive field of a response with the merchant private key. */
  decryptSensitive (ciphertext) {
    return later(async () => this.#native.decryptSensitive(requireString(ciphertext, 'ciphertext')))
  }

  /**
   * Downloads, verifies and trusts the platform certificates now; resolves to those trusted
   * (as `platformCertificates()` gives them).
   */
  refreshCertificates () {
    return later(() => this.#native.refreshCertificates())
  }

  /** The platform certificates currently trusted (no network). */
  platformCertificates () {
    return sync(() => this.#native.platformCertificates())
  }

  /** How many certificate downloads this client made. */
  certificateDownloads () {
    return later(() => this.#native.certificateDownloads())
  }

  /** Checks the configuration against the gateway: `{ ok, checks: [...] }` as the core reports it. */
  probe () {
    return later(async () => JSON.parse(await this.#native.probe()))
  }

  [util.inspect.custom] () {
    const i = this.#native.info()
    return `Client { mchid: ${JSON.stringify(i.mchid)}, baseUrl: ${JSON.stringify(i.baseUrl)}, mode: ${JSON.stringify(i.mode)} }`
  }

  toJSON () {
    const i = this.#native.info()
    return { mchid: i.mchid, baseUrl: i.baseUrl, mode: i.mode }
  }
}

// ---------------------------------------------------------------------------------------------
// sans-IO helpers (for users who keep their own HTTP stack)

/** The merchant API private key. Its `util.inspect` never shows key material. */
class PrivateKey {
  #native
  constructor (n) { this.#native = n }
  /** PEM text, a Buffer or a file path (PKCS#8 or PKCS#1). */
  static fromPem (pem) {
    const source = pemArg(pem, 'privateKey')
    return new PrivateKey(sync(() => native.NativePrivateKey.load(source)))
  }

  /** Key size in bits. */
  get bits () { return this.#native.bits }
  /** The public half as SubjectPublicKeyInfo DER. */
  get publicKeyDer () { return this.#native.publicKeyDer }
  /** base64 RSASSA-PKCS1-v1_5/SHA-256 signature. */
  sign (message) { return sync(() => this.#native.sign(bytesArg(message, 'message'))) }
  /** Decrypts a sensitive field (RSA-OAEP). */
  decryptSensitive (ciphertext) { return sync(() => this.#native.decryptSensitive(requireString(ciphertext, 'ciphertext'))) }
  [util.inspect.custom] () { return `PrivateKey { bits: ${this.bits} }` }
}

/** Signs requests for one merchant identity. */
class Signer {
  #native
  /** `privateKey` and `certificate` are PEM text, Buffers or paths. */
  constructor (mchid, serialNo, privateKey, certificate) {
    const key = pemArg(privateKey, 'privateKey')
    const cert = certificate === undefined || certificate === null ? undefined : pemArg(certificate, 'certificate')
    this.#native = sync(() => new native.NativeSigner(requireString(mchid, 'mchid'), requireString(serialNo, 'serialNo'), key, cert))
  }

  get mchid () { return this.#native.mchid }
  get serialNo () { return this.#native.serialNo }
  /** base64 signature of `message`. */
  sign (message) { return sync(() => this.#native.sign(bytesArg(message, 'message'))) }
  /** Signs a request (fresh nonce; the current time unless `timestamp` is given). */
  signRequest (method, pathAndQuery, body, timestamp) {
    return sync(() => this.#native.signRequest(
      requireString(method, 'method'), requireString(pathAndQuery, 'path'),
      body === undefined || body === null ? undefined : bytesArg(body, 'body'), integerArg(timestamp, 'timestamp')))
  }

  [util.inspect.custom] () { return `Signer { mchid: ${JSON.stringify(this.mchid)}, serialNo: ${JSON.stringify(this.serialNo)} }` }
}

/** Verifies WeChat Pay signatures of responses and callbacks. */
class Verifier {
  #native
  constructor (n) { this.#native = n }
  /** Public-key mode. */
  static publicKey (keyId, publicKey) {
    const pem = pemArg(publicKey, 'publicKey')
    return new Verifier(sync(() => native.NativeVerifier.publicKey(requireString(keyId, 'keyId'), pem)))
  }

  /** Platform certificates (PEM texts, Buffers or paths). */
  static certificates (certificates) {
    const pems = listOfPems(certificates)
    return new Verifier(sync(() => native.NativeVerifier.certificates(pems)))
  }

  /** Both, routed by serial (migrating from certificates to the public key). */
  static combined (keyId, publicKey, certificates) {
    const pem = pemArg(publicKey, 'publicKey')
    const pems = listOfPems(certificates)
    return new Verifier(sync(() => native.NativeVerifier.combined(requireString(keyId, 'keyId'), pem, pems)))
  }

  /** The serial or key id to send in `Wechatpay-Serial`. */
  get acceptSerial () { return this.#native.acceptSerial ?? undefined }

  /** Verifies a signed response or callback over its raw body. Options: `now`, `maxSkewSecs`. */
  verify (headers, body, options = {}) {
    const [names, values] = headerPairs(headers)
    return sync(() => this.#native.verify(names, values, bytesArg(body, 'body'), integerArg(options.now, 'now'), integerArg(options.maxSkewSecs, 'maxSkewSecs')))
  }

  /** A callback parser with this verifier and the APIv3 key. Options: `now`, `maxSkewSecs`. */
  notificationParser (apiv3Key, options = {}) {
    const p = sync(() => this.#native.notificationParser(bytesArg(apiv3Key, 'apiv3Key'), integerArg(options.now, 'now'), integerArg(options.maxSkewSecs, 'maxSkewSecs')))
    return {
      /** Verifies the raw body and headers, then decrypts the resource. */
      parse (headers, body) {
        const [names, values] = headerPairs(headers)
        return new Notification(sync(() => p.parse(names, values, bytesArg(body, 'body'))))
      }
    }
  }
}

function listOfPems (list, what = 'certificates') {
  if (!Array.isArray(list)) throw inputError(`${what} must be an array`)
  return list.map((c, i) => pemArg(c, `${what}[${i}]`))
}

/** A WeChat Pay key that sensitive fields are encrypted to (RSA-OAEP). */
class EncryptionKey {
  #native
  constructor (n) { this.#native = n }
  static fromPublicKey (keyId, publicKey) {
    const pem = pemArg(publicKey, 'publicKey')
    return new EncryptionKey(sync(() => native.NativeEncryptionKey.fromPublicKey(requireString(keyId, 'keyId'), pem)))
  }

  static fromCertificate (certificate) {
    const pem = pemArg(certificate, 'certificate')
    return new EncryptionKey(sync(() => native.NativeEncryptionKey.fromCertificate(pem)))
  }

  get wechatpaySerial () { return this.#native.wechatpaySerial }
  get maxPlaintextLen () { return this.#native.maxPlaintextLen }
  encrypt (plaintext) { return sync(() => this.#native.encrypt(requireString(plaintext, 'plaintext'))) }
}

/** Decrypts a sensitive field with the merchant private key (PEM text, Buffer, path or `PrivateKey`). */
function decryptSensitive (privateKey, ciphertext) {
  const key = privateKey instanceof PrivateKey ? privateKey : PrivateKey.fromPem(privateKey)
  return key.decryptSensitive(ciphertext)
}

function messageToSign (method, canonicalUrl, timestamp, nonce, body) {
  return sync(() => native.messageToSign(requireString(method, 'method'), requireString(canonicalUrl, 'canonicalUrl'), integerArg(timestamp, 'timestamp'), requireString(nonce, 'nonce'), bytesArg(body ?? '', 'body')))
}
function messageToVerify (timestamp, nonce, body) {
  return sync(() => native.messageToVerify(String(timestamp), requireString(nonce, 'nonce'), bytesArg(body ?? '', 'body')))
}
function canonicalUrl (pathAndQuery) { return sync(() => native.canonicalUrl(requireString(pathAndQuery, 'pathAndQuery'))) }
function generateNonce () { return sync(() => native.generateNonce()) }
function parseAuthorization (header) { return sync(() => native.parseAuthorization(requireString(header, 'header'))) }
function authorizationHeader (authorization) { return sync(() => native.authorizationHeader(authorization)) }
function parseCertificate (pem) { const source = pemArg(pem, 'certificate'); return sync(() => native.parseCertificate(source)) }

/** Decrypts, matches and verifies a `GET /v3/certificates` response (spec §3.3). */
function decryptCertificates (headers, body, apiv3Key, options = {}) {
  const [names, values] = headerPairs(headers)
  const trusted = listOfPems(options.trusted ?? [], 'trusted')
  const pk = options.publicKey === undefined || options.publicKey === null ? undefined : pemArg(options.publicKey, 'publicKey')
  return sync(() => native.decryptCertificates(names, values, bytesArg(body, 'body'), bytesArg(apiv3Key, 'apiv3Key'), trusted,
    optionalString(options.publicKeyId, 'publicKeyId'), pk, integerArg(options.now, 'now'), integerArg(options.maxSkewSecs, 'maxSkewSecs')))
}

function aeadDecrypt (apiv3Key, associatedData, nonce, ciphertext) {
  return sync(() => native.aeadDecrypt(bytesArg(apiv3Key, 'apiv3Key'), bytesArg(associatedData ?? '', 'associatedData'), bytesArg(nonce, 'nonce'), requireString(ciphertext, 'ciphertext')))
}
function aeadEncrypt (apiv3Key, associatedData, nonce, plaintext) {
  return sync(() => native.aeadEncrypt(bytesArg(apiv3Key, 'apiv3Key'), bytesArg(associatedData ?? '', 'associatedData'), bytesArg(nonce, 'nonce'), bytesArg(plaintext, 'plaintext')))
}

/** The exact string whose MD5 is the receipt `check_code`. */
function checkCodeInput (configuredLink, subMchId, outTradeNo, transactionId) {
  return sync(() => native.checkCodeInput(requireString(configuredLink, 'configuredLink'), requireString(subMchId, 'subMchId'), requireString(outTradeNo, 'outTradeNo'), requireString(transactionId, 'transactionId')))
}
/** The expected receipt `check_code` (lower-case hex MD5). */
function expectedCheckCode (configuredLink, subMchId, outTradeNo, transactionId) {
  return sync(() => native.expectedCheckCode(requireString(configuredLink, 'configuredLink'), requireString(subMchId, 'subMchId'), requireString(outTradeNo, 'outTradeNo'), requireString(transactionId, 'transactionId')))
}
/** Whether `checkCode` is the one WeChat computed (constant time). Pass values as they appear in the URL. */
function verifyCheckCode (configuredLink, subMchId, outTradeNo, transactionId, checkCode) {
  return sync(() => native.verifyCheckCode(requireString(configuredLink, 'configuredLink'), requireString(subMchId, 'subMchId'), requireString(outTradeNo, 'outTradeNo'), requireString(transactionId, 'transactionId'), requireString(checkCode, 'checkCode')))
}
/**
 * The former name of `verifyCheckCode` (the registry's `verify_check_code`), kept so existing
 * code keeps working; same arguments, same answer.
 * @deprecated Use `verifyCheckCode`.
 */
function verifyReceiptCheckCode (configuredLink, subMchId, outTradeNo, transactionId, checkCode) {
  return verifyCheckCode(configuredLink, subMchId, outTradeNo, transactionId, checkCode)
}
/** Parses a received receipt URL (or its query) into `{ subMchId, outTradeNo, checkCode }`, each `{ raw, decoded }`. */
function parseReceiptQuery (url) { return sync(() => native.parseReceiptQuery(requireString(url, 'url'))) }

/** Gold Plan rolled out to many special merchants as one resumable job (see bulk.cjs). */
const bulk = require('./bulk.cjs').makeBulk({ native, nativeClientOf, sync, later })

module.exports = {
  VERSION,
  ERROR_KINDS,
  ERROR_FAMILIES,
  OPERATION_TYPES,
  OPERATION_PAY_SCENES,
  INDUSTRY_TYPES,
  MAX_INDUSTRY_FILTERS,
  MAX_SENSITIVE_PLAINTEXT_LEN,
  Client,
  bulk,
  Notification,
  acknowledgement,
  PrivateKey,
  Signer,
  Verifier,
  EncryptionKey,
  decryptSensitive,
  messageToSign,
  messageToVerify,
  canonicalUrl,
  generateNonce,
  parseAuthorization,
  authorizationHeader,
  parseCertificate,
  decryptCertificates,
  aeadDecrypt,
  aeadEncrypt,
  checkCodeInput,
  expectedCheckCode,
  verifyCheckCode,
  verifyReceiptCheckCode,
  parseReceiptQuery,
  GoldPlanError: errors.GoldPlanError,
  ConfigurationError: errors.ConfigurationError,
  InvalidInputError: errors.InvalidInputError,
  SignatureError: errors.SignatureError,
  SigningError: errors.SigningError,
  EncryptionError: errors.EncryptionError,
  DecryptionError: errors.DecryptionError,
  CertificateError: errors.CertificateError,
  ReplayError: errors.ReplayError,
  DecodeError: errors.DecodeError,
  ApiError: errors.ApiError,
  TransportError: errors.TransportError,
  InternalError: errors.InternalError,
  SandboxError: errors.SandboxError,
  // Internal, for `goldplan/testing` and the tests.
  _internal: { headerPairs, fromNative, native }
}

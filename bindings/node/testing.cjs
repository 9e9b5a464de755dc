'use strict'
// `goldplan/testing`: the WeChat Pay sandbox in-process, so you test your own code without
// WeChat. The sandbox (an HTTP gateway simulator with key generation and an admin API) is a
// separate native addon, `goldplan-testing-linux-x64-gnu`, that you install as a
// devDependency; the production addon of `goldplan` does not contain it and stays light.

const main = require('./index.cjs')
const { fromNative, fromReport } = require('./errors.cjs')

function loadTestingAddon () {
  const reasons = []
  if (process.platform === 'linux' && process.arch === 'x64') {
    for (const id of ['./goldplan.testing.linux-x64-gnu.node', 'goldplan-testing-linux-x64-gnu']) {
      try {
        return require(id)
      } catch (e) {
        reasons.push(`${id}: ${e && e.message}`)
      }
    }
  } else {
    reasons.push(`no sandbox build for ${process.platform}-${process.arch}`)
  }
  throw fromReport({
    kind: 'sandbox',
    family: 'sandbox',
    code: 'SANDBOX_NOT_INSTALLED',
    message: 'goldplan/testing needs the sandbox addon: npm install --save-dev goldplan-testing-linux-x64-gnu (' + reasons.join('; ') + ')'
  })
}

let addon
function testingAddon () {
  if (addon === undefined) addon = loadTestingAddon()
  return addon
}

const USER_AGENT_SUFFIX = `goldplan-node/${main.VERSION} Node/${process.versions.node} (sandbox)`
const START_OPTIONS = { mchid: 'mchid', mode: 'mode', subMchids: 'sub_mchids', settings: 'settings', stateDir: 'state_dir' }

/**
 * A running sandbox on 127.0.0.1 (random port). Every admin method returns a Promise of the
 * sandbox's own JSON (snake_case, as its HTTP admin API shows it).
 */
class Sandbox {
  #native
  #info

  constructor (nativeSandbox, info) {
    this.#native = nativeSandbox
    this.#info = info
  }

  /**
   * Starts a sandbox. Options: `mode` (`certificate`, `public_key` or `combined`),
   * `mchid`, `subMchids`, `settings` (a settings patch in the sandbox's names), `stateDir`.
   */
  static async start (options = {}) {
    if (options === null || typeof options !== 'object') {
      throw fromReport({ kind: 'invalid_input', family: 'invalid_input', message: 'Sandbox.start options must be an object' })
    }
    const args = {}
    for (const [k, v] of Object.entries(options)) {
      if (v === undefined) continue
      const name = START_OPTIONS[k]
      if (!name) {
        throw fromReport({ kind: 'invalid_input', family: 'invalid_input', message: `unknown Sandbox option ${JSON.stringify(k)}; the options are ${Object.keys(START_OPTIONS).join(', ')}` })
      }
      args[name] = v
    }
    try {
      const n = await testingAddon().NativeSandbox.start(JSON.stringify(args))
      const info = JSON.parse(await n.admin('info', '{}'))
      return new Sandbox(n, info)
    } catch (e) {
      throw fromNative(e)
    }
  }

  /** `http://127.0.0.1:PORT`. */
  get baseUrl () { return this.#native.baseUrl }
  /** Whether the server is running. */
  get running () { return this.#native.running }
  /** What `sandbox.json` holds at start: mchid, serial, keys (test keys only), public key id, sub-merchants. */
  get info () { return this.#info }

  /**
   * A `Client` for the built-in service provider. Options: `mode` (overrides the
   * verification mode), `timeout` (seconds), `maxAttempts`.
   */
  client (options = {}) {
    const config = { ...this.#info, base_url: this.baseUrl }
    if (options.mode !== undefined) config.mode = options.mode
    if (options.timeout !== undefined) config.timeout_secs = options.timeout
    if (options.maxAttempts !== undefined) config.max_attempts = options.maxAttempts
    const { native } = main._internal
    try {
      return new main.Client(new native.NativeClient(JSON.stringify(config), undefined, USER_AGENT_SUFFIX))
    } catch (e) {
      throw fromNative(e)
    }
  }

  async #admin (operation, args = {}) {
    try {
      return JSON.parse(await this.#native.admin(operation, JSON.stringify(args)))
    } catch (e) {
      throw fromNative(e)
    }
  }

  /** Stops the server (idempotent). */
  async stop () {
    try {
      await this.#native.stop()
    } catch (e) {
      throw fromNative(e)
    }
  }

  /** The current `sandbox.json` contents. */
  currentInfo () { return this.#admin('info') }
  clock () { return this.#admin('clock') }
  /** Moves business time forward (e.g. past the 24-hour re-open rule). */
  advanceClock (seconds) { return this.#admin('advance_clock', { seconds }) }
  resetClock () { return this.#admin('reset_clock') }
  settings () { return this.#admin('settings') }
  updateSettings (patch) { return this.#admin('update_settings', patch) }
  registerMerchant (registration) { return this.#admin('register_merchant', registration) }
  merchants () { return this.#admin('merchants') }
  merchant (mchid) { return this.#admin('merchant', { mchid }) }
  updateMerchant (mchid, patch) { return this.#admin('update_merchant', { mchid, patch }) }
  addSubMerchant (mchid, registration) { return this.#admin('add_sub_merchant', { mchid, registration }) }
  subMerchant (mchid, subMchid) { return this.#admin('sub_merchant', { mchid, sub_mchid: subMchid }) }
  updateSubMerchant (mchid, subMchid, patch) { return this.#admin('update_sub_merchant', { mchid, sub_mchid: subMchid, patch }) }
  platformCertificates () { return this.#admin('platform_certificates') }
  /** Issues a new platform certificate (`request` in the sandbox's names, e.g. `{}`). */
  rotatePlatformCertificate (request = {}) { return this.#admin('rotate_platform_certificate', request) }
  expirePlatformCertificate (serialNo) { return this.#admin('expire_platform_certificate', { serial_no: serialNo }) }
  /** Injects a fault for the next request(s), e.g. `{ kind: 'tamper_body' }`. */
  injectFault (fault) { return this.#admin('inject_fault', fault) }
  faults () { return this.#admin('faults') }
  clearFaults () { return this.#admin('clear_faults') }
  /** Delivers a signed, encrypted callback to `request.url`; resolves to its record. */
  sendCallback (request) { return this.#admin('send_callback', request) }
  waitForCallback (id, timeoutSecs = 10) { return this.#admin('wait_for_callback', { id, timeout: timeoutSecs }) }
  callbacks () { return this.#admin('callbacks') }
  callback (id) { return this.#admin('callback', { id }) }
  requests () { return this.#admin('requests') }
  clearRequests () { return this.#admin('clear_requests') }
  media (mediaId) { return this.#admin('media', { media_id: mediaId }) }

  [require('node:util').inspect.custom] () {
    return `Sandbox { baseUrl: ${JSON.stringify(this.baseUrl)}, running: ${this.running} }`
  }
}

module.exports = { Sandbox }

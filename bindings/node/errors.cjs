'use strict'
// The one place where errors of the native addon become JavaScript errors. The addon throws
// (or rejects with) an Error whose message is `GOLDPLAN_REPORT:` followed by the core's
// `ErrorReport` as JSON (kind, family, message, request_id, retryable, status, code, …);
// `fromNative` turns it into the `GoldPlanError` subclass of the report's family. The family of
// each kind is decided by the core (`ErrorKind::family`), never here.

const REPORT_PREFIX = 'GOLDPLAN_REPORT:'

/**
 * Base class of every error this package throws. `kind` is the core's stable kind name
 * (`signature_invalid`, `api`, `timeout`, …) and `family` the group it belongs to; both are
 * the same in every goldplan binding.
 */
class GoldPlanError extends Error {
  /**
   * @param {string} message
   * @param {object} [report] the core's error report (snake_case members)
   */
  constructor (message, report = {}) {
    super(message)
    /** @type {string} */
    this.kind = report.kind ?? 'internal'
    /** @type {string} */
    this.family = report.family ?? 'internal'
    /** @type {string | undefined} */
    this.requestId = report.request_id ?? undefined
    /** @type {boolean} */
    this.retryable = Boolean(report.retryable)
    /** @type {number | undefined} HTTP status of an API error. */
    this.status = report.status ?? undefined
    /** @type {string | undefined} WeChat's error code of an API error, e.g. `PARAM_ERROR`. */
    this.code = report.code ?? undefined
    /** @type {string | undefined} WeChat's message of an API error. */
    this.apiMessage = report.api_message ?? undefined
    /** @type {unknown} The `detail` member of an API error. */
    this.detail = report.detail ?? undefined
    /** @type {boolean | undefined} */
    this.rateLimited = report.rate_limited ?? undefined
    /** @type {string | undefined} The `Wechatpay-Serial` a rejected message claimed. */
    this.serial = report.serial ?? undefined
    /** @type {boolean | undefined} Transport errors: true when nothing reached WeChat Pay. */
    this.beforeResponse = report.before_response ?? undefined
    /** @type {string | undefined} Replays: the notification id. */
    this.notificationId = report.notification_id ?? undefined
    // Bulk plans (`bulk`): every problem of a refused plan, each with its file line.
    if (report.problems !== undefined) {
      /** @type {Array<{ line: number, column: string | null, message: string }> | undefined} */
      this.problems = report.problems
    }
  }

  get name () {
    return this.constructor.name
  }
}

/** The configuration is unusable (bad key, wrong APIv3 key length, unknown option, …). */
class ConfigurationError extends GoldPlanError {}
/** A caller-supplied argument is invalid (wrong type, empty sub_mchid, too many filters, …). */
class InvalidInputError extends GoldPlanError {}
/** A response or callback is not authentic (headers, clock skew, serial, signature, probe). */
class SignatureError extends GoldPlanError {}
/** Producing a request signature failed. */
class SigningError extends GoldPlanError {}
/** Encrypting a sensitive field failed. */
class EncryptionError extends GoldPlanError {}
/** Decrypting a callback, certificate or sensitive field failed. */
class DecryptionError extends GoldPlanError {}
/** No usable platform certificate. */
class CertificateError extends GoldPlanError {}
/** A callback was already processed (reported by your replay guard). */
class ReplayError extends GoldPlanError {}
/** A payload could not be decoded. */
class DecodeError extends GoldPlanError {}
/** WeChat Pay answered with an error status: see `status`, `code`, `apiMessage`, `detail`. */
class ApiError extends GoldPlanError {}
/** The HTTP exchange failed or timed out (`kind` is `transport` or `timeout`). */
class TransportError extends GoldPlanError {}
/** A bug of this library (a panic caught at the native boundary). */
class InternalError extends GoldPlanError {}
/** A sandbox failure that is not the caller's input (`goldplan/testing`). */
class SandboxError extends GoldPlanError {}

/** Family name → class. */
const FAMILIES = Object.freeze({
  configuration: ConfigurationError,
  invalid_input: InvalidInputError,
  signature: SignatureError,
  signing: SigningError,
  encryption: EncryptionError,
  decryption: DecryptionError,
  certificate: CertificateError,
  replay: ReplayError,
  decode: DecodeError,
  api: ApiError,
  transport: TransportError,
  internal: InternalError,
  sandbox: SandboxError
})

/** The error for a report (the core's `ErrorReport`, parsed). */
function fromReport (report) {
  const Class = FAMILIES[report.family] ?? InternalError
  return new Class(String(report.message ?? report.kind), report)
}

/**
 * The `GoldPlanError` for anything the addon threw. Errors that carry no report (napi's own
 * argument checks, e.g. a number where a string is expected) become `InvalidInputError`.
 */
function fromNative (error) {
  if (error instanceof GoldPlanError) return error
  const message = error && typeof error.message === 'string' ? error.message : String(error)
  if (message.startsWith(REPORT_PREFIX)) {
    try {
      return fromReport(JSON.parse(message.slice(REPORT_PREFIX.length)))
    } catch {
      return new InternalError('the native addon sent an unreadable error report', {
        kind: 'internal',
        family: 'internal'
      })
    }
  }
  // napi's own conversions (`Failed to convert JavaScript value ...`): wrong argument types.
  return new InvalidInputError(message, { kind: 'invalid_input', family: 'invalid_input' })
}

module.exports = {
  REPORT_PREFIX,
  GoldPlanError,
  ConfigurationError,
  InvalidInputError,
  SignatureError,
  SigningError,
  EncryptionError,
  DecryptionError,
  CertificateError,
  ReplayError,
  DecodeError,
  ApiError,
  TransportError,
  InternalError,
  SandboxError,
  FAMILIES,
  fromReport,
  fromNative
}

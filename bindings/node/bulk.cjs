'use strict'
// `goldplan.bulk`: Gold Plan rolled out to many special merchants as one resumable job. The job
// is the Rust library `goldplan-bulk` (the same one as `goldplan bulk` on the command line),
// reached through its JSON surface; this module only translates JavaScript values. Loaded by
// `index.cjs`, which hands it the addon and the way to a `Client`'s native client.

const path = require('node:path')

/**
 * @param {object} deps
 * @param {object} deps.native the addon
 * @param {(client: unknown) => object} deps.nativeClientOf a `Client`'s native client
 * @param {(f: () => any) => any} deps.sync
 * @param {(f: () => any) => Promise<any>} deps.later
 */
function makeBulk ({ native, nativeClientOf, sync, later }) {
  /** The run options with the library's defaults (snake_case, as the library names them). */
  const DEFAULT_OPTIONS = Object.freeze(JSON.parse(native.bulkDefaultOptions()))

  function source (plan, name) {
    let s
    if (typeof plan === 'string' || plan instanceof URL) {
      s = { path: path.resolve(plan instanceof URL ? require('node:url').fileURLToPath(plan) : plan) }
    } else if (Array.isArray(plan)) {
      s = { rows: plan }
    } else {
      s = { ...plan }
    }
    if (name !== undefined) s.name = name
    return JSON.stringify(s)
  }

  function journalPath (journal) {
    return journal instanceof URL ? require('node:url').fileURLToPath(journal) : String(journal)
  }

  /**
   * Validates a plan without sending anything: `{ name, sha256, format, merchants, operations,
   * by_operation }`. A plan with problems throws an `InvalidInputError` whose `problems` list
   * every `{ line, column, message }`.
   */
  function checkPlan (plan, { name } = {}) {
    return JSON.parse(sync(() => native.bulkCheckPlan(source(plan, name))))
  }

  /**
   * Runs the plan's job; resolves with its summary. `onEvent` receives every event object
   * (`{ event: 'done', ... }`, `progress`, `failed`, `retrying`, `rate_changed`, `finished`,
   * ...) on the JS thread, one at a time. If it throws, no new operation starts, those in
   * flight finish and are journaled, and the Promise rejects with that error: run again to
   * continue. Build the client with `maxAttempts: 1` (the runner retries by itself).
   */
  async function run (client, plan, journal, options = {}) {
    const { concurrency, rate, dryRun, onEvent, name, options: extra } = options
    const merged = { ...(extra ?? {}) }
    if (concurrency !== undefined) merged.concurrency = concurrency
    if (rate !== undefined) merged.rate_per_sec = rate
    if (dryRun !== undefined) merged.dry_run = dryRun
    const job = sync(() =>
      native.bulkRun(nativeClientOf(client), source(plan, name), journalPath(journal), JSON.stringify(merged), typeof onEvent === 'function')
    )
    const done = later(() => job.finish())
    // Awaited below; this keeps an early rejection from counting as unhandled meanwhile.
    done.catch(() => {})
    let failure
    for (;;) {
      const batch = await later(() => job.nextEvents())
      if (batch == null) break
      if (failure !== undefined || typeof onEvent !== 'function') continue
      for (const text of batch) {
        try {
          onEvent(JSON.parse(text))
        } catch (e) {
          failure = { error: e }
          job.cancel()
          break
        }
      }
    }
    if (failure !== undefined) {
      await done.catch(() => {})
      throw failure.error
    }
    return JSON.parse(await done)
  }

  /**
   * One row per special merchant, in plan order: `sub_mchid`, `line`, `gold_plan`,
   * `pay_scene`, `custom_page`, `industry_filter`, `ad_show` (each `null` or the confirmed
   * `{ value, at, at_rfc3339, request_id }`), `pending` and `failures`.
   */
  function report (journal) {
    return JSON.parse(sync(() => native.bulkReport(journalPath(journal)))).merchants
  }

  /** Puts failed operations back for the next run (24-hour refusals only when asked); returns how many. */
  function retryFailed (journal, { includeReopenTooSoon = false } = {}) {
    return sync(() => native.bulkRetryFailed(journalPath(journal), Boolean(includeReopenTooSoon)))
  }

  return Object.freeze({ DEFAULT_OPTIONS, checkPlan, run, report, retryFailed })
}

module.exports = { makeBulk }

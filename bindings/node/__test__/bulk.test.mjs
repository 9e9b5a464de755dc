// `bulk` against the in-process sandbox: a rate-limited rollout with faults ends as planned,
// the report matches the sandbox, events arrive, a plan with problems throws with its lines,
// and a second run of the same journal sends nothing.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import * as gp from '../index.mjs'
import { Sandbox } from '../testing.mjs'

const { bulk, InvalidInputError } = gp
const SUBS = Array.from({ length: 60 }, (_, i) => String(1_900_300_000 + i))

/** Three operations per merchant, in three shapes. */
function rowsFor (subs) {
  return subs.map((s, i) => [
    { sub_mchid: s, gold_plan: 'OPEN', custom_page: 'OPEN', industry_filter: 'SOFTWARE|GAME' },
    { sub_mchid: s, gold_plan: 'OPEN', pay_scene: 'JSAPI_AND_MINIPROGRAM', custom_page: 'CLOSE', ad_show: 'OPEN', ad_tags: 'POTOGRAPHY|FOOD' },
    { sub_mchid: s, gold_plan: 'OPEN', custom_page: 'OPEN', ad_show: 'OPEN' }
  ][i % 3])
}

const tmp = () => mkdtempSync(path.join(tmpdir(), 'goldplan-bulk-'))

async function sandbox () {
  const sb = await Sandbox.start({ mode: 'public_key', settings: { rate_limit: { max_requests: 40, window_secs: 1 } } })
  for (const s of SUBS) await sb.addSubMerchant(sb.info.mchid, { sub_mchid: s, receipt_link: 'https://example.com/receipt' })
  return sb
}

async function goldPlanSuccesses (sb) {
  return (await sb.requests()).filter((r) => r.path.startsWith('/v3/goldplan/') && r.status >= 200 && r.status < 300).length
}

test('checkPlan counts rows, files and text', () => {
  const summary = bulk.checkPlan(rowsFor(SUBS.slice(0, 3)), { name: 'three' })
  assert.equal(summary.name, 'three')
  assert.equal(summary.merchants, 3)
  assert.equal(summary.operations, 9)
  assert.equal(summary.by_operation.change_gold_plan_status, 3)
  const file = path.join(tmp(), 'rollout.csv')
  writeFileSync(file, 'sub_mchid,gold_plan,custom_page\n1900000109,OPEN,OPEN\n')
  assert.equal(bulk.checkPlan(file).operations, 2)
  assert.equal(bulk.checkPlan({ text: '{"sub_mchid": "1900000109", "gold_plan": "CLOSE"}\n' }).format, 'json_lines')
  assert.equal(bulk.DEFAULT_OPTIONS.concurrency, 8)
})

test('a plan with problems throws InvalidInputError with its lines', () => {
  const file = path.join(tmp(), 'bad.csv')
  writeFileSync(file, 'sub_mchid,gold_plan,ad_show,ad_tags\n1900000109,OPEN,OPEN,SOFTWARE\nabc,OPEN,,\n1900000110,OPEN,OPEN,NOT_A_TAG\n')
  assert.throws(() => bulk.checkPlan(file), (e) => {
    assert.ok(e instanceof InvalidInputError)
    assert.deepEqual(e.problems.map((p) => p.line), [3, 4])
    assert.match(e.message, /line 3/)
    return true
  })
  assert.throws(() => bulk.checkPlan([{ sub_mchid: '1900000109', gold_plan: 'MAYBE' }]), (e) => e instanceof InvalidInputError && e.problems[0].line === 1)
  assert.throws(() => bulk.report(path.join(tmp(), 'missing.db')), InvalidInputError)
})

test('a run of a plan with problems sends nothing; bad options and clients are refused', async () => {
  const sb = await sandbox()
  try {
    const client = sb.client({ maxAttempts: 1 })
    const dir = tmp()
    const bad = [{ sub_mchid: SUBS[0], gold_plan: 'OPEN' }, { sub_mchid: 'x1', gold_plan: 'OPEN' }]
    await assert.rejects(bulk.run(client, bad, path.join(dir, 'job.db')), (e) => e instanceof InvalidInputError && e.problems[0].line === 2)
    assert.equal(existsSync(path.join(dir, 'job.db')), false)
    await assert.rejects(bulk.run(client, rowsFor(SUBS.slice(0, 1)), path.join(dir, 'a.db'), { concurrency: 0 }), InvalidInputError)
    await assert.rejects(bulk.run(client, rowsFor(SUBS.slice(0, 1)), path.join(dir, 'b.db'), { options: { no_such: 1 } }), InvalidInputError)
    await assert.rejects(bulk.run({}, rowsFor(SUBS.slice(0, 1)), path.join(dir, 'c.db')), InvalidInputError)
    assert.equal(await goldPlanSuccesses(sb), 0)
  } finally {
    await sb.stop()
  }
})

test('a rate-limited rollout with faults ends as planned, and a second run sends nothing', async () => {
  const sb = await sandbox()
  try {
    for (const kind of ['system_error', 'rate_limited', 'connection_reset']) {
      await sb.injectFault({ kind, count: 2, path: '/v3/goldplan/*' })
    }
    const client = sb.client({ maxAttempts: 1 })
    const rows = rowsFor(SUBS)
    const journal = path.join(tmp(), 'job.db')
    const events = []
    const summary = await bulk.run(client, rows, journal, {
      concurrency: 8, rate: 60, onEvent: (e) => events.push(e), options: { base_delay_ms: 20 }
    })
    assert.deepEqual([summary.done, summary.failed, summary.remaining], [180, 0, 0], JSON.stringify(summary))
    assert.ok(summary.rate_limited_answers >= 2, JSON.stringify(summary))
    assert.ok(summary.retries >= 2, JSON.stringify(summary))
    const kinds = events.map((e) => e.event)
    assert.equal(kinds[0], 'started')
    assert.equal(kinds.at(-1), 'finished')
    assert.equal(kinds.filter((k) => k === 'done').length, 180)
    assert.ok(kinds.includes('retrying'))

    const report = bulk.report(journal)
    assert.deepEqual(report.map((r) => r.sub_mchid), SUBS)
    for (const [i, s] of SUBS.entries()) {
      const state = await sb.subMerchant(sb.info.mchid, s)
      const row = report[i]
      const [custom, filters, ad] = [
        ['OPEN', ['SOFTWARE', 'GAME'], 'CLOSE'],
        ['CLOSE', ['POTOGRAPHY', 'FOOD'], 'OPEN'],
        ['OPEN', [], 'OPEN']
      ][i % 3]
      // The sandbox equals the plan ...
      assert.equal(state.gold_plan, 'OPEN', s)
      assert.equal(state.custom_page, custom, s)
      assert.deepEqual(state.advertising_industry_filters, filters, s)
      assert.equal(state.advertising_show, ad, s)
      // ... and the report equals the sandbox, with a Request-ID per confirmation.
      assert.deepEqual([row.failures, row.pending], [[], 0])
      assert.equal(row.gold_plan.value, 'OPEN')
      assert.ok(row.gold_plan.request_id)
      assert.equal(row.custom_page.value, state.custom_page)
      if (i % 3 !== 0) assert.equal(row.ad_show.value, state.advertising_show)
      const joined = state.advertising_industry_filters.join('|')
      assert.equal(row.industry_filter?.value ?? null, joined || null)
    }

    const sent = await goldPlanSuccesses(sb)
    const again = await bulk.run(client, rows, journal)
    assert.deepEqual([again.requests_sent, again.done_this_run], [0, 0], JSON.stringify(again))
    assert.equal(await goldPlanSuccesses(sb), sent)
    assert.equal(bulk.retryFailed(journal), 0)
  } finally {
    await sb.stop()
  }
})

test('dry run sends nothing; a throwing onEvent stops the run and the next run continues', async () => {
  const sb = await sandbox()
  try {
    const client = sb.client({ maxAttempts: 1 })
    const dir = tmp()
    const events = []
    const dry = await bulk.run(client, rowsFor(SUBS.slice(0, 4)), path.join(dir, 'dry.db'), { dryRun: true, onEvent: (e) => events.push(e) })
    assert.equal(dry.dry_run, true)
    assert.equal(dry.would_send, 12)
    assert.equal(events.filter((e) => e.event === 'would_send').length, 12)
    assert.equal(await goldPlanSuccesses(sb), 0)

    const rows = rowsFor(SUBS.slice(0, 12))
    const journal = path.join(dir, 'job.db')
    let done = 0
    const boom = new Error('enough')
    await assert.rejects(bulk.run(client, rows, journal, {
      concurrency: 2,
      onEvent: (e) => { if (e.event === 'done' && ++done === 5) throw boom }
    }), (e) => e === boom)
    const left = bulk.report(journal).reduce((n, r) => n + r.pending, 0)
    assert.ok(left > 0 && left < 36, String(left))
    const summary = await bulk.run(client, rows, journal)
    assert.deepEqual([summary.done, summary.failed, summary.remaining], [36, 0, 0], JSON.stringify(summary))
    assert.equal(summary.done_this_run, left)
  } finally {
    await sb.stop()
  }
})

test('a failed open is reported and retried', async () => {
  const sb = await sandbox()
  try {
    const client = sb.client({ maxAttempts: 1 })
    const journal = path.join(tmp(), 'job.db')
    const rows = [{ sub_mchid: SUBS[0], gold_plan: 'OPEN' }, { sub_mchid: '1900999999', gold_plan: 'OPEN', custom_page: 'OPEN' }]
    const summary = await bulk.run(client, rows, journal, { rate: null })
    assert.deepEqual([summary.done, summary.failed], [1, 2], JSON.stringify(summary))
    const [ok, refused] = bulk.report(journal)
    assert.equal(ok.gold_plan.value, 'OPEN')
    assert.equal(refused.gold_plan, null)
    assert.deepEqual(refused.failures.map((f) => f.operation).sort(), ['change_custom_page_status', 'change_gold_plan_status'])
    assert.equal(bulk.retryFailed(journal), 2)
    assert.equal(bulk.report(journal)[1].pending, 2)
  } finally {
    await sb.stop()
  }
})

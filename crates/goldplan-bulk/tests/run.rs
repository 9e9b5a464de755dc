//! The runner against the real sandbox: a rate-limited rollout with faults, resuming after a
//! cancellation and after a drop mid-way, the journal bound to its plan, dry runs, and the
//! 24-hour rule.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::{accepted, client, sandbox, sub_ids};
use goldplan_bulk::{
    BulkError, Event, FailureKind, Journal, OpStatus, Plan, RunOptions, Runner, report,
};
use goldplan_sandbox::{Fault, FaultKind, RateLimit, Settings, Switch};

/// Three operations per merchant, in three shapes.
fn rollout_csv(subs: &[String]) -> String {
    let mut csv =
        String::from("sub_mchid,gold_plan,pay_scene,custom_page,industry_filter,ad_show,ad_tags\n");
    for (i, s) in subs.iter().enumerate() {
        csv.push_str(&match i % 3 {
            0 => format!("{s},OPEN,,OPEN,SOFTWARE|GAME,,\n"),
            1 => format!("{s},OPEN,JSAPI_AND_MINIPROGRAM,CLOSE,,OPEN,POTOGRAPHY|FOOD\n"),
            _ => format!("{s},OPEN,,OPEN,,OPEN,\n"),
        });
    }
    csv
}

fn switch(s: &Option<goldplan_bulk::Confirmed>) -> Option<&str> {
    s.as_ref().map(|c| c.value.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_rollout_with_faults_ends_as_planned() {
    let subs = sub_ids(240);
    let settings = Settings {
        rate_limit: Some(RateLimit {
            max_requests: 80,
            window_secs: 1,
        }),
        ..Settings::default()
    };
    let sb = sandbox(&subs, settings).await;
    let mchid = sb.info().unwrap().mchid;
    for kind in [
        FaultKind::SystemError,
        FaultKind::RateLimited,
        FaultKind::ConnectionReset,
    ] {
        let mut f = Fault::new(kind);
        f.count = 2;
        f.path = Some("/v3/goldplan/*".into());
        sb.inject_fault(f).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let plan = Plan::parse("rollout.csv", &rollout_csv(&subs), None).unwrap();
    assert_eq!(plan.operations().len(), 720);
    let journal = Journal::open(dir.path().join("job.db"), &plan).unwrap();
    let slowdowns = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&slowdowns);
    let options = RunOptions {
        concurrency: 8,
        rate_per_sec: Some(250.0),
        base_delay: Duration::from_millis(20),
        ..RunOptions::default()
    };
    let summary = Runner::new(client(&sb), journal.clone(), options)
        .on_event(move |e| {
            if let Event::RateChanged {
                direction: "slow_down",
                ..
            } = e
            {
                seen.fetch_add(1, Ordering::Relaxed);
            }
        })
        .run()
        .await
        .unwrap();
    assert_eq!(
        (summary.done, summary.failed, summary.remaining),
        (720, 0, 0),
        "{summary:?}"
    );
    assert!(
        summary.rate_limited_answers > 2,
        "the gateway's limit was hit and absorbed: {summary:?}"
    );
    assert!(slowdowns.load(Ordering::Relaxed) > 0);
    assert!(summary.retries >= 2, "the faults were retried: {summary:?}");

    eprintln!("rollout: {summary:?}");
    let rep = report(&journal).unwrap();
    assert_eq!(rep.merchants.len(), subs.len());
    for (i, (s, row)) in subs.iter().zip(&rep.merchants).enumerate() {
        let state = sb.sub_merchant(&mchid, s).unwrap();
        assert_eq!(&row.sub_mchid, s);
        assert!(row.failures.is_empty() && row.pending == 0);
        // The sandbox equals the plan ...
        assert_eq!(state.gold_plan, Switch::Open, "{s}");
        let (custom, filters, ad) = match i % 3 {
            0 => (Switch::Open, vec!["SOFTWARE", "GAME"], Switch::Close),
            1 => (Switch::Close, vec!["POTOGRAPHY", "FOOD"], Switch::Open),
            _ => (Switch::Open, vec![], Switch::Open),
        };
        assert_eq!(state.custom_page, custom, "{s}");
        assert_eq!(state.advertising_industry_filters, filters, "{s}");
        assert_eq!(state.advertising_show, ad, "{s}");
        if i % 3 == 1 {
            assert_eq!(state.pay_scenes, vec!["JSAPI", "MINIPROGRAM"]);
        }
        // ... and the report equals the sandbox, with a Request-ID for each confirmation.
        assert_eq!(switch(&row.gold_plan), Some("OPEN"));
        let on = |s: Switch| if s == Switch::Open { "OPEN" } else { "CLOSE" };
        assert_eq!(switch(&row.custom_page), Some(on(state.custom_page)));
        if i % 3 != 0 {
            assert_eq!(switch(&row.ad_show), Some(on(state.advertising_show)));
        }
        let f = state.advertising_industry_filters.join("|");
        assert_eq!(
            switch(&row.industry_filter),
            (!f.is_empty()).then_some(f.as_str())
        );
        assert!(row.gold_plan.as_ref().unwrap().request_id.is_some());
    }
    let mut csv = Vec::new();
    rep.write_csv(&mut csv).unwrap();
    assert_eq!(
        String::from_utf8(csv).unwrap().lines().count(),
        subs.len() + 1
    );
    sb.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_without_a_rate_of_its_own_settles_under_a_tight_gateway() {
    // No rate of our own, 16 at once, against a gateway that takes 30 a second: the
    // 命中频率限制 answers slow the run down and each refused call backs off, so that no
    // operation runs out of attempts (with immediate retries, some failed within a second).
    let subs = sub_ids(60);
    let settings = Settings {
        rate_limit: Some(RateLimit {
            max_requests: 30,
            window_secs: 1,
        }),
        ..Settings::default()
    };
    let sb = sandbox(&subs, settings).await;
    let dir = tempfile::tempdir().unwrap();
    let plan = Plan::parse("rollout.csv", &rollout_csv(&subs), None).unwrap();
    let journal = Journal::open(dir.path().join("job.db"), &plan).unwrap();
    let options = RunOptions {
        concurrency: 16,
        rate_per_sec: None,
        ..RunOptions::default()
    };
    let slowest = Arc::new(std::sync::Mutex::new(f64::INFINITY));
    let seen = Arc::clone(&slowest);
    let summary = Runner::new(client(&sb), journal, options)
        .on_event(move |e| {
            if let Event::RateChanged {
                rate_per_sec: Some(rate),
                ..
            } = e
            {
                let mut slowest = seen.lock().unwrap();
                *slowest = slowest.min(*rate);
            }
        })
        .run()
        .await
        .unwrap();
    assert_eq!(
        (summary.done, summary.failed, summary.remaining),
        (180, 0, 0),
        "{summary:?}"
    );
    eprintln!("unlimited runner, tight gateway: {summary:?}");
    // It slowed down to about the gateway's pace, not to a crawl: the rate it learnt when the
    // first refusal came is what it had sent, not zero.
    let slowest = *slowest.lock().unwrap();
    assert!(
        slowest >= 5.0,
        "slowed down to {slowest}/s for a 30/s gateway"
    );
    assert!(summary.rate_limited_answers > 0, "{summary:?}");
    sb.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_or_dropped_run_resumes_and_sends_each_operation_once() {
    let subs = sub_ids(60);
    let sb = sandbox(&subs, Settings::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let plan = Plan::parse("rollout.csv", &rollout_csv(&subs), None).unwrap();
    let journal = Journal::open(dir.path().join("job.db"), &plan).unwrap();
    let options = RunOptions {
        concurrency: 6,
        rate_per_sec: Some(150.0),
        ..RunOptions::default()
    };

    // 1. Ctrl-C after 40 operations: in-flight ones finish and are journaled.
    let runner = Runner::new(client(&sb), journal.clone(), options.clone());
    let token = runner.cancellation_token();
    let done = Arc::new(AtomicU64::new(0));
    let d = Arc::clone(&done);
    let runner = runner.on_event(move |e| {
        if matches!(e, Event::Done { .. }) && d.fetch_add(1, Ordering::Relaxed) + 1 == 40 {
            token.cancel();
        }
    });
    let first = runner.run().await.unwrap();
    assert!(first.cancelled, "{first:?}");
    assert!(first.done >= 40 && first.done < 180, "{first:?}");
    assert_eq!(
        journal.counts().unwrap().in_flight,
        0,
        "in-flight calls were journaled"
    );
    let after_cancel = accepted(&sb);
    assert!(after_cancel.values().all(|n| *n == 1), "nothing sent twice");

    // 2. A "crash": the run future is dropped mid-way; its tasks are aborted.
    // Slow answers, so that requests are on the wire when the future is dropped.
    let mut slow = Fault::new(FaultKind::Delay);
    slow.count = 4;
    slow.delay_ms = Some(600);
    slow.path = Some("/v3/goldplan/*".into());
    sb.inject_fault(slow).unwrap();
    let runner = Runner::new(client(&sb), journal.clone(), options.clone());
    let dropped = tokio::time::timeout(Duration::from_millis(250), runner.run()).await;
    assert!(dropped.is_err(), "the run was still going");
    // The delayed requests are still processed by the sandbox, as after a real crash.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let in_flight = journal.counts().unwrap().in_flight;
    assert!(in_flight > 0, "the drop left operations in flight");

    // 3. Run again: everything finishes; at most one repeat per operation left in flight.
    let last = Runner::new(client(&sb), journal.clone(), options)
        .run()
        .await
        .unwrap();
    assert_eq!(
        (last.done, last.failed, last.remaining),
        (180, 0, 0),
        "{last:?}"
    );
    assert_eq!(last.requeued_in_flight, in_flight);
    let counts = accepted(&sb);
    assert_eq!(counts.len(), 180, "every operation reached the sandbox");
    let repeats: usize = counts.values().map(|n| n - 1).sum();
    eprintln!("resume: {in_flight} in flight at the drop, {repeats} repeats; {last:?}");
    assert!(
        repeats as u64 <= in_flight,
        "{repeats} repeats, {in_flight} operations were in flight at the drop"
    );
    assert!(
        journal
            .operations()
            .unwrap()
            .iter()
            .all(|o| o.status == OpStatus::Done)
    );
    sb.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_is_bound_to_its_plan_and_a_dry_run_sends_nothing() {
    let subs = sub_ids(5);
    let sb = sandbox(&subs, Settings::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("job.db");
    let plan = Plan::parse("a.csv", &rollout_csv(&subs), None).unwrap();
    let journal = Journal::open(&path, &plan).unwrap();
    // One process per journal.
    let busy = Journal::open(&path, &plan).unwrap_err();
    assert!(busy.to_string().contains("in use"), "{busy}");

    let would = Arc::new(AtomicU64::new(0));
    let w = Arc::clone(&would);
    let options = RunOptions {
        dry_run: true,
        ..RunOptions::default()
    };
    let summary = Runner::new(client(&sb), journal.clone(), options)
        .on_event(move |e| {
            if matches!(e, Event::WouldSend { .. }) {
                w.fetch_add(1, Ordering::Relaxed);
            }
        })
        .run()
        .await
        .unwrap();
    assert_eq!((summary.would_send, summary.requests_sent), (15, 0));
    assert_eq!(would.load(Ordering::Relaxed), 15);
    assert!(
        sb.requests()
            .iter()
            .all(|r| !r.path.starts_with("/v3/goldplan/"))
    );
    assert_eq!(journal.counts().unwrap().pending, 15);
    drop(journal);

    let other = Plan::parse("b.csv", &rollout_csv(&subs[..4]), None).unwrap();
    let err = Journal::open(&path, &other).unwrap_err();
    assert!(matches!(err, BulkError::PlanMismatch { .. }), "{err}");
    assert!(err.to_string().contains("a.csv"), "{err}");
    // The same plan continues the same journal.
    let again = Journal::open(&path, &plan).unwrap();
    assert_eq!(again.job().operations, 15);
    drop(again);
    let existing = Journal::open_existing(&path).unwrap();
    assert_eq!(existing.job().plan_name, "a.csv");
    sb.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_24_hour_rule_fails_without_retry_and_blocks_the_receipt() {
    let subs = sub_ids(1);
    let sb = sandbox(&subs, Settings::default()).await;
    let c = client(&sb);
    c.change_gold_plan_status(&subs[0], goldplan::gold_plan::OperationType::Open, None)
        .await
        .unwrap();
    c.change_gold_plan_status(&subs[0], goldplan::gold_plan::OperationType::Close, None)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plan = Plan::parse(
        "p.csv",
        &format!("sub_mchid,gold_plan,custom_page\n{},OPEN,OPEN\n", subs[0]),
        None,
    )
    .unwrap();
    let journal = Journal::open(dir.path().join("job.db"), &plan).unwrap();
    let options = RunOptions::default();
    let summary = Runner::new(c.clone(), journal.clone(), options.clone())
        .run()
        .await
        .unwrap();
    assert_eq!(
        (summary.done, summary.failed, summary.requests_sent),
        (0, 2, 1),
        "{summary:?}"
    );
    let rep = report(&journal).unwrap();
    let failures = &rep.merchants[0].failures;
    assert_eq!(failures[0].kind, FailureKind::ReopenTooSoon);
    assert!(failures[0].request_id.is_some());
    assert_eq!(
        failures[0].error.as_ref().unwrap()["code"],
        "INVALID_REQUEST"
    );
    assert_eq!(failures[1].kind, FailureKind::Blocked);
    assert!(
        failures[1]
            .reason
            .contains("blocked by change_gold_plan_status")
    );

    // retry-failed leaves the 24-hour refusal alone unless asked.
    assert_eq!(journal.retry_failed(false).unwrap(), 1);
    let again = Runner::new(c.clone(), journal.clone(), options.clone())
        .run()
        .await
        .unwrap();
    assert_eq!((again.requests_sent, again.failed), (0, 2));
    sb.advance_clock(24 * 3600).unwrap();
    assert_eq!(journal.retry_failed(true).unwrap(), 2);
    let last = Runner::new(c, journal.clone(), options)
        .run()
        .await
        .unwrap();
    assert_eq!((last.done, last.failed), (2, 0), "{last:?}");
    let rep = report(&journal).unwrap();
    assert_eq!(switch(&rep.merchants[0].gold_plan), Some("OPEN"));
    assert_eq!(switch(&rep.merchants[0].custom_page), Some("OPEN"));
    sb.shutdown().await.unwrap();
}

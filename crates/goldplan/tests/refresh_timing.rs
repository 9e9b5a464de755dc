//! Certificate refresh over time, on tokio's paused clock (the certificate manager measures
//! time with `tokio::time::Instant`): the scheduled task downloads once per interval within its
//! jitter, a call after the interval triggers exactly one lazy download, and the unknown-serial
//! limiter lets exactly one download through per `min_interval`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::gateway::*;
use goldplan::client::RefreshPolicy;
use goldplan::credentials::ApiV3Key;
use goldplan::{Client, ErrorKind};

const HOUR: Duration = Duration::from_secs(3600);
const MIN_INTERVAL: Duration = Duration::from_secs(60);

fn client(gw: &Arc<Gateway>) -> Client {
    Client::builder()
        .credentials(credentials())
        .apiv3_key(ApiV3Key::new(APIV3).unwrap())
        .base_url(PRIMARY)
        .transport(gw.clone())
        .retry_policy(fast_retries())
        .refresh_policy(RefreshPolicy {
            interval: HOUR,
            min_interval: MIN_INTERVAL,
        })
        .build()
        .unwrap()
}

fn downloads(gw: &Gateway) -> usize {
    gw.downloads.load(Ordering::SeqCst)
}

/// Lets spawned tasks run to their next wait (the gateway answers without waiting).
async fn settle() {
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
}

/// Moves the paused clock forward and lets the tasks whose timers fired run.
async fn advance(by: Duration) {
    tokio::time::advance(by).await;
    settle().await;
}

/// Fifty calls at once whose answers are signed by a certificate the list never holds.
async fn storm(gw: &Arc<Gateway>, client: &Client) {
    // One more signed answer with the unknown key for the refresh download itself.
    gw.push(Fault::SignWith(2), 51);
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let c = client.clone();
        tasks.push(tokio::spawn(
            async move { c.close_advertising_show("1").await },
        ));
    }
    for t in tasks {
        assert_eq!(
            t.await.unwrap().unwrap_err().kind(),
            ErrorKind::UnknownSerial
        );
    }
    gw.faults.lock().unwrap().clear();
}

#[tokio::test(start_paused = true)]
async fn the_scheduled_task_downloads_once_per_interval_within_its_jitter() {
    let gw = Gateway::new(1);
    let client = client(&gw);
    client.refresh_certificates().await.unwrap();
    let task = tokio::spawn(client.certificate_refresh_task());
    settle().await;
    // Walk six hours in 30 s steps and note when each download happened.
    let step = Duration::from_secs(30);
    let start = tokio::time::Instant::now();
    let mut seen = downloads(&gw);
    let mut at = vec![Duration::ZERO];
    while start.elapsed() < 6 * HOUR {
        advance(step).await;
        let now = downloads(&gw);
        assert!(now <= seen + 1, "two downloads within {step:?}");
        if now == seen + 1 {
            at.push(start.elapsed());
        }
        seen = now;
    }
    task.abort();
    // The jitter is ±10 %: every gap lies in [0.9, 1.1] × interval (give or take one step).
    assert!(at.len() >= 6, "downloads at {at:?}");
    for pair in at.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap + step >= HOUR.mul_f64(0.9) && gap <= HOUR.mul_f64(1.1) + step,
            "gap {gap:?} outside the jitter bounds (downloads at {at:?})"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_call_after_the_interval_triggers_exactly_one_lazy_download() {
    let gw = Gateway::new(1);
    let client = client(&gw);
    client.close_advertising_show("1").await.unwrap();
    assert_eq!(downloads(&gw), 1, "the first call downloads");
    advance(HOUR - Duration::from_secs(1)).await;
    client.close_advertising_show("1").await.unwrap();
    assert_eq!(downloads(&gw), 1, "the set is not stale yet");
    advance(Duration::from_secs(2)).await;
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let c = client.clone();
        tasks.push(tokio::spawn(
            async move { c.close_advertising_show("1").await },
        ));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(
        downloads(&gw),
        2,
        "ten calls after the interval: one download"
    );
    client.close_advertising_show("1").await.unwrap();
    assert_eq!(downloads(&gw), 2, "fresh again");
}

#[tokio::test(start_paused = true)]
async fn the_unknown_serial_limiter_reopens_after_min_interval() {
    let gw = Gateway::new(1);
    let client = client(&gw);
    client.close_advertising_show("1").await.unwrap();
    assert_eq!(downloads(&gw), 1);
    storm(&gw, &client).await;
    assert_eq!(downloads(&gw), 2, "one download for the first storm");
    advance(MIN_INTERVAL - Duration::from_secs(1)).await;
    storm(&gw, &client).await;
    assert_eq!(
        downloads(&gw),
        2,
        "a storm within min_interval downloads nothing"
    );
    advance(Duration::from_secs(2)).await;
    storm(&gw, &client).await;
    assert_eq!(downloads(&gw), 3, "after min_interval: exactly one more");
    client.close_advertising_show("1").await.unwrap();
    assert_eq!(downloads(&gw), 3, "ordinary calls do not download");
}

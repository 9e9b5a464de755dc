//! Load benchmark (not a test): signed requests per second against an in-process sandbox on
//! loopback. Every request is signed by the client (RSA), verified by the sandbox (RSA),
//! answered with a signed response (RSA) and verified by the client (RSA).
//!
//! ```text
//! cargo run --release -p goldplan-sandbox --example load -- --requests 20000 --seconds 10 --concurrency 16
//! ```
//!
//! Stops at whichever bound comes first: `--requests` (default 20000) or `--seconds`
//! (default 10).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let requests = arg("--requests", 20_000).min(1_000_000);
    let seconds = arg("--seconds", 10).clamp(1, 120);
    let concurrency = arg("--concurrency", 16).clamp(1, 256);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(requests, seconds, concurrency));
}

async fn run(requests: u64, seconds: u64, concurrency: u64) {
    let (sandbox, client) = common::start().await;
    let client = Arc::new(client);
    let body = serde_json::json!({"sub_mchid": common::SUB, "operation_type": "OPEN"}).to_string();
    // Warm up the connection pool.
    for _ in 0..concurrency.min(8) {
        client
            .send("POST", common::paths::GOLD_PLAN, body.as_bytes())
            .await;
    }
    let issued = Arc::new(AtomicU64::new(0));
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, issued, ok, failed, body) = (
            client.clone(),
            issued.clone(),
            ok.clone(),
            failed.clone(),
            body.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline && issued.fetch_add(1, Ordering::Relaxed) < requests {
                let r = client
                    .send("POST", common::paths::GOLD_PLAN, body.as_bytes())
                    .await;
                if r.status == 200 && client.verify(&r).is_ok() {
                    ok.fetch_add(1, Ordering::Relaxed);
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let done = ok.load(Ordering::Relaxed);
    println!(
        "{done} signed requests OK ({} failed) in {elapsed:.2} s with concurrency {concurrency} on {} threads: {:.0} req/s",
        failed.load(Ordering::Relaxed),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        done as f64 / elapsed
    );
    sandbox.shutdown().await.unwrap();
}

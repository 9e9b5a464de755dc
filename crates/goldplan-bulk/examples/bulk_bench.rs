//! Throughput of the bulk runner beside plain client calls, its rate-limited pace, and its memory
//! over a long job (issue 23's performance figures; a benchmark, not a test).
//!
//! ```text
//! cargo run --release -p goldplan-bulk --example bulk_bench -- [--merchants 2000] \
//!     [--rate 100] [--rate-secs 20] [--memory-ops 0]
//! ```
//!
//! The sandbox runs in this process on its own runtime and threads (labelled so in the output);
//! every call is a real signed request over a loopback socket, verified. The operation is
//! 点金计划管理 OPEN (one per special merchant), which sets a state and can be sent any number of
//! times.
//!
//! 1. Unlimited: the same operations as sequential client calls, as 16 concurrent calls, and
//!    through the runner (concurrency 16, no rate of its own, journal in a temporary folder):
//!    operations per second and the runner's ratio to the best of the two.
//! 2. Rate-limited: the sandbox answers 命中频率限制 beyond `--rate` per second; the runner starts
//!    at twice that and must settle: sustained rate (operations confirmed over the last 3/4 of the
//!    run) and the rate-limit answers in that part.
//! 3. `--memory-ops N`: N operations through the runner (cycling over the merchants, unlimited),
//!    the process's resident memory sampled along the way.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use goldplan::Client;
use goldplan::client::{Operation, RetryPolicy};
use goldplan::credentials::{ApiV3Key, MerchantCredentials, PrivateKey};
use goldplan::verify::PublicKeyVerifier;
use goldplan_bulk::{Event, Journal, Plan, RunOptions, Runner};
use goldplan_sandbox::{
    KeyMode, RateLimit, Sandbox, SandboxConfig, SandboxHandle, SubMerchantRegistration,
};
use serde_json::json;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn client(sb: &SandboxHandle) -> Client {
    let info = sb.info().unwrap();
    Client::builder()
        .credentials(
            MerchantCredentials::with_certificate(
                &info.mchid,
                &info.serial_no,
                PrivateKey::from_pem(&info.private_key_pem).unwrap(),
                &info.certificate_pem,
            )
            .unwrap(),
        )
        .apiv3_key(ApiV3Key::new(info.apiv3_key.as_bytes()).unwrap())
        .wechatpay_public_key(
            PublicKeyVerifier::from_pem(&info.public_key_id, &info.public_key_pem).unwrap(),
        )
        .base_url(info.base_url)
        // The runner retries; the client sends each call once.
        .retry_policy(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        })
        .build()
        .unwrap()
}

fn plan(name: &str, subs: &[String]) -> Plan {
    let rows: Vec<_> = subs
        .iter()
        .map(|s| json!({"sub_mchid": s, "gold_plan": "OPEN"}))
        .collect();
    Plan::from_rows(name, &rows).unwrap()
}

async fn call(client: &Client, sub: &str) {
    let args = json!({"sub_mchid": sub, "operation_type": "OPEN"});
    client
        .call_json(Operation::ChangeGoldPlanStatus, args.to_string().as_bytes())
        .await
        .unwrap();
}

fn main() {
    let merchants = arg("--merchants", 2000) as usize;
    let rate = arg("--rate", 100);
    let rate_secs = arg("--rate-secs", 20);
    let memory_ops = arg("--memory-ops", 0);

    // The sandbox on its own runtime (two threads), so that its work does not run on the
    // client's threads.
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sb = server.block_on(async {
        Sandbox::start(SandboxConfig {
            mode: KeyMode::PublicKey,
            ..SandboxConfig::default()
        })
        .await
        .unwrap()
    });
    let mchid = sb.info().unwrap().mchid;
    let subs: Vec<String> = (0..merchants)
        .map(|i| format!("{}", 1_900_200_000 + i))
        .collect();
    for s in &subs {
        sb.add_sub_merchant(
            &mchid,
            SubMerchantRegistration {
                sub_mchid: s.clone(),
                receipt_link: None,
            },
        )
        .unwrap();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    println!(
        "sandbox in this process on its own runtime; {merchants} special merchants, one 点金计划管理 OPEN each"
    );

    runtime.block_on(async {
        let client = client(&sb);
        call(&client, &subs[0]).await; // warm: connection open, keys parsed.

        let started = Instant::now();
        for s in &subs {
            call(&client, s).await;
        }
        let sequential = merchants as f64 / started.elapsed().as_secs_f64();

        let started = Instant::now();
        let next = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (client, next, subs) = (client.clone(), next.clone(), subs.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                    let Some(s) = subs.get(i) else { break };
                    call(&client, s).await;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let concurrent = merchants as f64 / started.elapsed().as_secs_f64();

        let unlimited = RunOptions {
            concurrency: 16,
            rate_per_sec: None,
            ..RunOptions::default()
        };
        let journal = Journal::open(dir.path().join("a.db"), &plan("a", &subs)).unwrap();
        let summary = Runner::new(client.clone(), journal, unlimited.clone())
            .run()
            .await
            .unwrap();
        assert_eq!(summary.done, merchants as u64);
        let runner = merchants as f64 / summary.elapsed_secs;
        let best = sequential.max(concurrent);
        println!("| unlimited | operations/s | x best plain |");
        println!("|---|---:|---:|");
        println!(
            "| sequential client calls | {sequential:.0} | {:.2} |",
            sequential / best
        );
        println!(
            "| 16 concurrent client calls | {concurrent:.0} | {:.2} |",
            concurrent / best
        );
        println!(
            "| bulk runner (16, journal) | {runner:.0} | {:.2} |",
            runner / best
        );

        // Rate-limited: the gateway allows `rate`/s; the runner starts at twice that.
        let mut settings = sb.settings();
        settings.rate_limit = Some(RateLimit {
            max_requests: rate as u32,
            window_secs: 1,
        });
        sb.update_settings(&serde_json::to_value(&settings).unwrap())
            .unwrap();
        let n = ((rate * rate_secs) as usize).min(merchants);
        let limited = RunOptions {
            concurrency: 16,
            rate_per_sec: Some(2.0 * rate as f64),
            ..RunOptions::default()
        };
        let journal = Journal::open(dir.path().join("b.db"), &plan("b", &subs[..n])).unwrap();
        let log: Arc<Mutex<Vec<(f64, bool)>>> = Arc::default();
        let started = Instant::now();
        let sink = log.clone();
        let summary = Runner::new(client.clone(), journal, limited)
            .on_event(move |e| {
                let at = started.elapsed().as_secs_f64();
                match e {
                    Event::Done { .. } => sink.lock().unwrap().push((at, false)),
                    Event::Retrying {
                        rate_limited: true, ..
                    } => sink.lock().unwrap().push((at, true)),
                    _ => {}
                }
            })
            .run()
            .await
            .unwrap();
        let log = std::mem::take(&mut *log.lock().unwrap());
        let settle = summary.elapsed_secs / 4.0;
        let done_late = log.iter().filter(|(t, r)| *t >= settle && !r).count();
        let limited_late = log.iter().filter(|(t, r)| *t >= settle && *r).count();
        let sustained = done_late as f64 / (summary.elapsed_secs - settle);
        println!(
            "rate-limited at {rate}/s: {n} operations in {:.1} s; sustained {sustained:.1}/s over \
             the last 3/4 ({:.3} x the limit); 命中频率限制 answers: {} in all, {limited_late} in \
             the last 3/4",
            summary.elapsed_secs,
            sustained / rate as f64,
            summary.rate_limited_answers
        );
        settings.rate_limit = None;
        sb.update_settings(&serde_json::to_value(&settings).unwrap())
            .unwrap();

        if memory_ops > 0 {
            let rows: Vec<_> = (0..memory_ops as usize)
                .map(|i| {
                    // One row per merchant in a plan: cycle through the merchants in
                    // successive plans' worth of ids by suffixing nothing; the job is the
                    // same operation over and over, as a long rollout would be.
                    json!({"sub_mchid": subs[i % merchants], "gold_plan": "OPEN"})
                })
                .collect();
            let mut rss = vec![resident_kib()];
            for (k, chunk) in rows.chunks(merchants).enumerate() {
                let plan = Plan::from_rows(&format!("m{k}"), chunk).unwrap();
                let journal = Journal::open(dir.path().join(format!("m{k}.db")), &plan).unwrap();
                Runner::new(client.clone(), journal, unlimited.clone())
                    .run()
                    .await
                    .unwrap();
                rss.push(resident_kib());
            }
            println!(
                "memory over {memory_ops} operations ({} jobs of {merchants}): resident KiB {:?}",
                rss.len() - 1,
                rss
            );
        }
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
    server.block_on(async { sb.shutdown().await.unwrap() });
}

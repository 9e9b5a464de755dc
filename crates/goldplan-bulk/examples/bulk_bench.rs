//! Throughput of the bulk runner beside plain client calls, its rate-limited pace, and its memory
//! over a long job (issue 23's performance figures; a benchmark, not a test).
//!
//! ```text
//! cargo run --release -p goldplan-bulk --example bulk_bench -- [--merchants 2000] [--rounds 3] \
//!     [--rate 100] [--rate-secs 60] [--memory-ops 0]
//! ```
//!
//! The sandbox runs in this process on its own runtime and threads (labelled so in the output);
//! every call is a real signed request over a loopback socket, verified. The operation is
//! 点金计划管理 OPEN (one per special merchant), which sets a state and can be sent any number of
//! times.
//!
//! 1. Unlimited: the same operations as sequential client calls, as 16 concurrent calls, and
//!    through the runner (concurrency 16, no rate of its own, journal in a temporary folder), in
//!    `--rounds` alternating rounds: the median operations per second, the runner's ratio to the
//!    best of the two, and the CPU time of the whole process per operation.
//! 2. Rate-limited: the sandbox answers 命中频率限制 beyond `--rate` per second; the runner starts
//!    at twice that and must settle within the first quarter of the run: sustained rate
//!    (operations confirmed over the last 3/4) and the rate-limit answers in that part, and the
//!    rate changes along the way.
//! 3. `--memory-ops N`: one job of N operations (three per special merchant) through the
//!    runner, unlimited, the process's resident memory sampled along the way.
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
    KeyMode, MerchantPatch, RateLimit, Sandbox, SandboxConfig, SandboxHandle,
    SubMerchantRegistration,
};
use serde_json::json;

/// What an event sink collects.
type Shared<T> = Arc<Mutex<Vec<T>>>;

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

/// CPU seconds this process has used (user + system).
fn cpu_secs() -> f64 {
    stat_cpu_secs(&std::fs::read_to_string("/proc/self/stat").unwrap_or_default())
}

/// CPU seconds used so far by this process's thread named `name` (0 when there is none).
fn thread_cpu_secs(name: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        // The kernel keeps 15 bytes of a thread's name.
        if comm.trim_end() == &name[..name.len().min(15)] {
            let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
            return stat_cpu_secs(&stat);
        }
    }
    0.0
}

/// utime + stime of a `/proc/.../stat` line, in seconds.
fn stat_cpu_secs(stat: &str) -> f64 {
    // Fields after the command name (which may hold spaces) start at its closing parenthesis.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and state;
    // Linux reports them in 1/100 s.
    (ticks(11) + ticks(12)) / 100.0
}

/// Operations per second and CPU milliseconds per operation since `started` / `cpu`.
fn measured(operations: usize, started: Instant, cpu: f64) -> (f64, f64) {
    let secs = started.elapsed().as_secs_f64();
    let cpu_ms = (cpu_secs() - cpu) * 1000.0;
    (operations as f64 / secs, cpu_ms / operations as f64)
}

/// The median by operations per second.
fn median(mut figures: Vec<(f64, f64)>) -> (f64, f64) {
    figures.sort_by(|a, b| a.0.total_cmp(&b.0));
    figures[figures.len() / 2]
}

/// Registers `count` special merchants numbered from `first`; returns their ids.
fn register(sb: &SandboxHandle, mchid: &str, first: usize, count: usize) -> Vec<String> {
    let ids: Vec<String> = (first..first + count).map(|i| i.to_string()).collect();
    for sub_mchid in &ids {
        sb.add_sub_merchant(
            mchid,
            SubMerchantRegistration {
                sub_mchid: sub_mchid.clone(),
                receipt_link: None,
            },
        )
        .unwrap();
    }
    ids
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
    let rate_secs = arg("--rate-secs", 60);
    let memory_ops = arg("--memory-ops", 0);
    let rounds = arg("--rounds", 3).max(1) as usize;

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
    let subs = register(&sb, &mchid, 1_900_200_000, merchants);
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

        let unlimited = RunOptions {
            concurrency: 16,
            rate_per_sec: None,
            ..RunOptions::default()
        };
        // Rounds alternate the three ways, so that a neighbour's load on the machine falls
        // on all of them alike; each figure is the median of its rounds.
        let mut figures: [Vec<(f64, f64)>; 3] = Default::default();
        let mut journal_share = Vec::new();
        for round in 0..rounds {
            let cpu = cpu_secs();
            let started = Instant::now();
            for s in &subs {
                call(&client, s).await;
            }
            figures[0].push(measured(merchants, started, cpu));

            let cpu = cpu_secs();
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
            figures[1].push(measured(merchants, started, cpu));

            let journal =
                Journal::open(dir.path().join(format!("a{round}.db")), &plan("a", &subs))
                    .unwrap();
            let cpu = cpu_secs();
            let started = Instant::now();
            // The journal thread lives as long as the run: read its CPU time at the end.
            let journal_cpu = Arc::new(Mutex::new(0.0));
            let seen = journal_cpu.clone();
            let summary = Runner::new(client.clone(), journal, unlimited.clone())
                .on_event(move |e| {
                    if let Event::Finished(_) = e {
                        *seen.lock().unwrap() = thread_cpu_secs("goldplan-journal");
                    }
                })
                .run()
                .await
                .unwrap();
            assert_eq!(summary.done, merchants as u64);
            let whole = measured(merchants, started, cpu);
            journal_share.push(*journal_cpu.lock().unwrap() * 1000.0 / merchants as f64 / whole.1);
            figures[2].push(whole);
        }
        journal_share.sort_by(f64::total_cmp);
        let [sequential, concurrent, runner] = figures.clone().map(median);
        let best = sequential.0.max(concurrent.0);
        println!(
            "unlimited, median of {rounds} alternating rounds (CPU: the whole process, sandbox included)"
        );
        println!("| unlimited | operations/s | x best plain | CPU ms/operation |");
        println!("|---|---:|---:|---:|");
        for (name, (rate, cpu)) in [
            ("sequential client calls", sequential),
            ("16 concurrent client calls", concurrent),
            ("bulk runner (16, journal)", runner),
        ] {
            println!("| {name} | {rate:.0} | {:.2} | {cpu:.3} |", rate / best);
        }
        // Each round's runner against the same round's concurrent calls, so that the load of
        // the moment cancels out: the steadiest figure on a shared machine.
        let mut ratios: Vec<f64> = figures[2]
            .iter()
            .zip(&figures[1])
            .map(|(runner, plain)| runner.0 / plain.0)
            .collect();
        ratios.sort_by(f64::total_cmp);
        println!(
            "runner / 16 concurrent calls, round by round: median {:.2} (from {:.2} to {:.2})",
            ratios[ratios.len() / 2],
            ratios[0],
            ratios[ratios.len() - 1]
        );
        println!(
            "the runner's journal thread: {:.1} % of the process CPU (median of the rounds)",
            journal_share[journal_share.len() / 2] * 100.0
        );

        // Rate-limited: the gateway allows `rate`/s; the runner starts at twice that.
        let mut settings = sb.settings();
        settings.rate_limit = Some(RateLimit {
            max_requests: rate as u32,
            window_secs: 1,
        });
        sb.update_settings(&serde_json::to_value(&settings).unwrap())
            .unwrap();
        // Enough operations to last `rate_secs` at the limit.
        let n = (rate * rate_secs) as usize;
        let limited_subs = register(&sb, &mchid, 1_930_000_000, n);
        let limited = RunOptions {
            concurrency: 16,
            rate_per_sec: Some(2.0 * rate as f64),
            ..RunOptions::default()
        };
        let journal = Journal::open(dir.path().join("b.db"), &plan("b", &limited_subs)).unwrap();
        let log: Shared<(f64, bool)> = Arc::default();
        let changes: Shared<(f64, Option<f64>)> = Arc::default();
        let started = Instant::now();
        let (sink, rates) = (log.clone(), changes.clone());
        let summary = Runner::new(client.clone(), journal, limited)
            .on_event(move |e| {
                let at = started.elapsed().as_secs_f64();
                match e {
                    Event::Done { .. } => sink.lock().unwrap().push((at, false)),
                    Event::Retrying {
                        rate_limited: true, ..
                    } => sink.lock().unwrap().push((at, true)),
                    Event::RateChanged { rate_per_sec, .. } => {
                        rates.lock().unwrap().push((at, *rate_per_sec));
                    }
                    _ => {}
                }
            })
            .run()
            .await
            .unwrap();
        let log = std::mem::take(&mut *log.lock().unwrap());
        let changes = std::mem::take(&mut *changes.lock().unwrap());
        // The adaptive phase: the first quarter of the run (it must be over by then).
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
        let trajectory: Vec<String> = changes
            .iter()
            .map(|(t, r)| match r {
                Some(r) => format!("{t:.1} s: {r:.1}"),
                None => format!("{t:.1} s: unlimited"),
            })
            .collect();
        println!("rate changes (ops/s): {}", trajectory.join(", "));
        settings.rate_limit = None;
        sb.update_settings(&serde_json::to_value(&settings).unwrap())
            .unwrap();

        if memory_ops > 0 {
            // One job of `memory_ops` operations: three per special merchant (Gold Plan OPEN,
            // the receipt OPEN, an industry filter), all merchants registered with the sandbox
            // before the first reading, so that what grows is the runner's.
            let count = (memory_ops as usize).div_ceil(3);
            let ids = register(&sb, &mchid, 1_950_000_000, count);
            sb.update_merchant(
                &mchid,
                MerchantPatch {
                    receipt_link: Some("https://receipt.example.com/r".into()),
                    ..MerchantPatch::default()
                },
            )
            .unwrap();
            let rows: Vec<_> = ids
                .iter()
                .map(|s| {
                    json!({"sub_mchid": s, "gold_plan": "OPEN", "custom_page": "OPEN",
                           "industry_filter": "SOFTWARE|GAME"})
                })
                .collect();
            let plan = Plan::from_rows("memory", &rows).unwrap();
            let operations = plan.operations().len();
            let at = |samples: &[(u64, u64)], share: f64| {
                let target = (operations as f64 * share) as u64;
                samples
                    .iter()
                    .find(|(done, _)| *done >= target)
                    .map_or(0, |(_, kib)| *kib)
            };
            let line = |what: &str, before: u64, samples: &[(u64, u64)], secs: f64| {
                let peak = samples.iter().map(|(_, kib)| *kib).max().unwrap_or(0);
                println!(
                    "| {what} | {:.0} | {before} | {} | {} | {} | {peak} |",
                    operations as f64 / secs,
                    at(samples, 0.1),
                    at(samples, 0.5),
                    at(samples, 0.9),
                );
            };
            println!(
                "memory over one job of {operations} operations ({count} merchants; resident \
                 KiB of the whole process, sandbox included)"
            );
            println!("| pass | ops/s | before | at 10 % | 50 % | 90 % | peak |");
            println!("|---|---:|---:|---:|---:|---:|---:|");

            // The same operations as plain concurrent calls first: what the sandbox (the
            // switches it now keeps for every merchant) and the client grow by.
            let merchants_ops: Vec<Vec<(Operation, String)>> = plan
                .merchants()
                .iter()
                .map(|m| {
                    m.operations()
                        .into_iter()
                        .map(|o| (o.operation, o.arguments.to_string()))
                        .collect()
                })
                .collect();
            let merchants_ops = Arc::new(merchants_ops);
            let done = Arc::new(AtomicU64::new(0));
            let before = resident_kib();
            let started = Instant::now();
            let sampler = {
                let done = done.clone();
                tokio::spawn(async move {
                    let mut samples = Vec::new();
                    loop {
                        tokio::time::sleep(Duration::from_millis(250)).await;
                        let n = done.load(Ordering::Relaxed);
                        samples.push((n, resident_kib()));
                        if n >= operations as u64 {
                            return samples;
                        }
                    }
                })
            };
            let next = Arc::new(AtomicU64::new(0));
            let mut tasks = Vec::new();
            for _ in 0..16 {
                let (client, next, ops, done) = (
                    client.clone(),
                    next.clone(),
                    merchants_ops.clone(),
                    done.clone(),
                );
                tasks.push(tokio::spawn(async move {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                        let Some(merchant) = ops.get(i) else { break };
                        for (op, args) in merchant {
                            client.call_json(*op, args.as_bytes()).await.unwrap();
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
            let secs = started.elapsed().as_secs_f64();
            let samples = sampler.await.unwrap();
            line("16 concurrent client calls", before, &samples, secs);

            // Then the runner over the same job, its journal on disk.
            let journal = Journal::open(dir.path().join("memory.db"), &plan).unwrap();
            let samples: Shared<(u64, u64)> = Arc::default();
            let before = resident_kib();
            let sink = samples.clone();
            let summary = Runner::new(client.clone(), journal, unlimited.clone())
                .on_event(move |e| {
                    if let Event::Progress(p) = e {
                        sink.lock().unwrap().push((p.done, resident_kib()));
                    }
                })
                .run()
                .await
                .unwrap();
            assert_eq!(summary.done, operations as u64);
            let samples = std::mem::take(&mut *samples.lock().unwrap());
            line("bulk runner (16, journal)", before, &samples, summary.elapsed_secs);
        }
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
    server.block_on(async { sb.shutdown().await.unwrap() });
}

//! Client round trips against the in-process sandbox on loopback: time per call and, through
//! criterion's throughput, calls per second.
//!
//! ```text
//! cargo bench -p goldplan-e2e --bench round_trip --locked -- --noplot
//! ```
//!
//! One call is: serialise, sign (RSA), send over a pooled loopback connection, the sandbox
//! verifies (RSA), applies the Gold Plan rules, signs its answer (RSA), and the client verifies
//! it (RSA) and decodes it. Client and sandbox share the process and its cores, so this is the
//! whole exchange, not the client alone (`cargo bench -p goldplan --bench client` isolates the
//! client's own overhead).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use goldplan::gold_plan::OperationType;
use goldplan_e2e::{SUB, Verification, client, info, start};
use goldplan_sandbox::KeyMode;
use tokio::task::JoinSet;

/// Calls in flight in the concurrent benchmark.
const CONCURRENCY: u64 = 16;

fn round_trips(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // Combined mode: the gateway signs with the key each client advertises.
    let sandbox = runtime.block_on(start(KeyMode::Combined));
    let info = info(&sandbox);
    let mut group = c.benchmark_group("round_trip");
    for (name, verification) in [
        ("public_key", Verification::PublicKey),
        ("certificate", Verification::Certificates),
    ] {
        let client = client(&info, verification);
        // Opens Gold Plan (the advertising calls need it) and, for certificates, downloads
        // them, so that only steady-state calls are measured.
        runtime
            .block_on(client.change_gold_plan_status(SUB, OperationType::Open, None))
            .unwrap();

        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("{name}/change_gold_plan_status"), |b| {
            b.iter(|| {
                runtime
                    .block_on(client.change_gold_plan_status(SUB, OperationType::Open, None))
                    .unwrap()
            })
        });
        group.bench_function(format!("{name}/close_advertising_show"), |b| {
            b.iter(|| {
                runtime
                    .block_on(client.close_advertising_show(SUB))
                    .unwrap()
            })
        });

        group.throughput(Throughput::Elements(CONCURRENCY));
        group.bench_function(format!("{name}/{CONCURRENCY}_concurrent"), |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let mut calls = JoinSet::new();
                    for _ in 0..CONCURRENCY {
                        let client = client.clone();
                        calls.spawn(async move { client.close_advertising_show(SUB).await });
                    }
                    while let Some(joined) = calls.join_next().await {
                        joined.unwrap().unwrap();
                    }
                })
            })
        });
    }
    group.finish();
    // Every call above was answered without a fault or an error.
    assert!(sandbox.requests().iter().all(|r| r.status / 100 == 2));
}

criterion_group!(benches, round_trips);
criterion_main!(benches);

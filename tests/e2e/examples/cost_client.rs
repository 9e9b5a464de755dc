//! The Rust side of `bench/cost.py`: a client process as a user would run it (the default
//! multi-thread tokio runtime, a configuration file, a real socket to a sandbox *process*).
//!
//! ```text
//! cost_client limit --config sandbox.json --iterations 2000 [--verifies-per-sign 10]
//! cost_client run   --config sandbox.json --calls 2000 [--concurrency 16]
//! ```
//!
//! `limit` prints the CPU floor of one call measured on this machine now: one RSA-2048
//! signature and one verification, in µs. `run` makes `calls` 点金计划管理 calls (OPEN, 200 with a
//! signed JSON body), `concurrency` at a time, and prints the wall time; the harness measures
//! the process's CPU time from outside (user + system, all threads).

use std::time::Instant;

use goldplan::config::ClientConfig;
use goldplan::gold_plan::OperationType;
use goldplan::verify::{PublicKeyVerifier, Verifier};

type AnyError = Box<dyn std::error::Error + Send + Sync>;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn number(args: &[String], name: &str, default: usize) -> Result<usize, AnyError> {
    Ok(match arg(args, name) {
        Some(v) => v.parse()?,
        None => default,
    })
}

fn limit(
    config: &ClientConfig,
    iterations: usize,
    verifies_per_sign: usize,
) -> Result<(), AnyError> {
    let key = config.private_key()?;
    let verifier = PublicKeyVerifier::from_der("PUB_KEY_ID_bench", key.public_key_der())?;
    let message = b"1700000000\ncost-bench-nonce\n{\"sub_mchid\":\"1900000109\"}\n";
    let signature = key.sign_sha256(message)?;
    let started = Instant::now();
    for _ in 0..iterations {
        std::hint::black_box(key.sign_sha256(std::hint::black_box(message))?);
    }
    let sign_us = started.elapsed().as_secs_f64() * 1e6 / iterations as f64;
    let started = Instant::now();
    let verifies = iterations * verifies_per_sign;
    for _ in 0..verifies {
        verifier.verify("PUB_KEY_ID_bench", message, &signature)?;
    }
    let verify_us = started.elapsed().as_secs_f64() * 1e6 / verifies.max(1) as f64;
    println!(r#"{{"sign_us":{sign_us:.2},"verify_us":{verify_us:.2}}}"#);
    Ok(())
}

async fn run(config: &ClientConfig, calls: usize, concurrency: usize) -> Result<(), AnyError> {
    let client = config.build()?;
    let sub_mchid = "1900000109";
    // Warm: the connection is open and nothing is left lazy before the clock starts.
    client
        .change_gold_plan_status(sub_mchid, OperationType::Open, None)
        .await?;
    let started = Instant::now();
    let workers = concurrency.max(1);
    let mut tasks = Vec::with_capacity(workers);
    for w in 0..workers {
        let client = client.clone();
        let share = calls / workers + usize::from(w < calls % workers);
        tasks.push(tokio::spawn(async move {
            for _ in 0..share {
                client
                    .change_gold_plan_status(sub_mchid, OperationType::Open, None)
                    .await?;
            }
            Ok::<(), goldplan::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let wall_s = started.elapsed().as_secs_f64();
    println!(r#"{{"calls":{calls},"concurrency":{workers},"wall_s":{wall_s:.6}}}"#);
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), AnyError> {
    let args: Vec<String> = std::env::args().collect();
    let config_path = arg(&args, "--config").ok_or("--config sandbox.json is required")?;
    let config = ClientConfig::from_file(&config_path)?;
    match args.get(1).map(String::as_str) {
        // One verify per sign when counting instructions (bench/cost.py --instructions); ten
        // when timing, as a verify is short.
        Some("limit") => limit(
            &config,
            number(&args, "--iterations", 2000)?,
            number(&args, "--verifies-per-sign", 10)?,
        ),
        Some("run") => {
            run(
                &config,
                number(&args, "--calls", 1000)?,
                number(&args, "--concurrency", 1)?,
            )
            .await
        }
        _ => Err("usage: cost_client limit|run --config FILE [...]".into()),
    }
}

//! The sandbox killed with SIGKILL at random moments, again and again, while clients change
//! special merchants' switches and the admin API rotates platform certificates: after every
//! restart the state directory loads, the identities are the same ones (a signed call verifies
//! end to end), and no acknowledged write is lost — each merchant holds the value of its last
//! acknowledged write or of the one in flight at the kill, and the last acknowledged rotation's
//! certificate is listed.
//!
//! `GOLDPLAN_SANDBOX_KILLS` sets the number of kills (default 25); `cargo make sandbox-kill-9`
//! runs 300.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use goldplan::Client;
use goldplan::client::{Operation, RetryPolicy};
use goldplan::config::ClientConfig;
use serde_json::{Value, json};

const WRITERS: usize = 4;
const TAGS: [&str; 6] = ["SOFTWARE", "GAME", "CAR", "FOOD", "POTOGRAPHY", "EDUCATION"];

fn sub_mchid(writer: usize) -> String {
    format!("19000003{writer:02}")
}

/// The filter of write `n`: three distinct tags, a different list for each `n` below 120, so
/// the stored list tells which write it came from.
fn filter(n: u64) -> Vec<&'static str> {
    let mut free: Vec<&str> = TAGS.to_vec();
    let mut n = n % 120;
    let mut out = Vec::new();
    for k in [6u64, 5, 4] {
        out.push(free.remove((n % k) as usize));
        n /= k;
    }
    out
}

/// Starts the sandbox process on `dir`; returns it and its base URL.
fn start(dir: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_goldplan-sandbox"))
        .arg("--state-dir")
        .arg(dir)
        .args(["--port", "0"])
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.starts_with("http://127.0.0.1:"),
        "the sandbox did not start on its state directory: {line:?}"
    );
    (child, line.trim().to_owned())
}

fn client(dir: &Path) -> Client {
    ClientConfig::from_file(dir.join("sandbox.json"))
        .unwrap()
        .builder()
        .unwrap()
        // One attempt each: a kill must not be hidden by a retry against the next sandbox.
        .retry_policy(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        })
        .build()
        .unwrap()
}

async fn admin(http: &reqwest::Client, base: &str, method: &str, path: &str, body: Value) -> Value {
    let url = format!("{base}/sandbox{path}");
    let request = match method {
        "GET" => http.get(url),
        _ => http
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_string()),
    };
    let answer = request.send().await.unwrap();
    assert!(answer.status().is_success(), "{path}: {}", answer.status());
    serde_json::from_str(&answer.text().await.unwrap()).unwrap()
}

/// What each writer had acknowledged, and what it had in flight, when the sandbox died.
#[derive(Default, Clone)]
struct Writer {
    acknowledged: Option<u64>,
    in_flight: Option<u64>,
    next: u64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_loses_no_acknowledged_write() {
    let kills: usize = std::env::var("GOLDPLAN_SANDBOX_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25);
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();

    // First start: the identities are generated; register the writers' merchants, Gold Plan
    // open on each (the filter needs it).
    let (mut child, mut base) = start(dir.path());
    let identity: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("sandbox.json")).unwrap())
            .unwrap();
    let mchid = identity["mchid"].as_str().unwrap().to_owned();
    let c = client(dir.path());
    for w in 0..WRITERS {
        let sub = sub_mchid(w);
        admin(
            &http,
            &base,
            "POST",
            &format!("/merchants/{mchid}/sub-merchants"),
            json!({"sub_mchid": sub}),
        )
        .await;
        c.call_json(
            Operation::ChangeGoldPlanStatus,
            json!({"sub_mchid": sub, "operation_type": "OPEN"})
                .to_string()
                .as_bytes(),
        )
        .await
        .unwrap();
    }

    let writers: Arc<Mutex<Vec<Writer>>> = Arc::new(Mutex::new(vec![Writer::default(); WRITERS]));
    let mut rotated: Option<String> = None;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let (mut acknowledged_writes, mut rotations) = (0u64, 0u64);
    for round in 0..=kills {
        // Every acknowledged write is there (or the one in flight replaced it) ...
        // The tasks are gone: a copy is checked (no lock held across the admin calls).
        let mut states = writers.lock().unwrap().clone();
        for (w, state) in states.iter_mut().enumerate() {
            let view = admin(
                &http,
                &base,
                "GET",
                &format!("/merchants/{mchid}/sub-merchants/{}", sub_mchid(w)),
                Value::Null,
            )
            .await;
            let stored: Vec<&str> = view["advertising_industry_filters"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap())
                .collect();
            let allowed: Vec<Vec<&str>> = [state.acknowledged, state.in_flight]
                .into_iter()
                .flatten()
                .map(filter)
                .collect();
            if state.acknowledged.is_some() || state.in_flight.is_some() {
                assert!(
                    allowed.contains(&stored),
                    "round {round}, writer {w}: stored {stored:?}, acknowledged {:?}, in flight \
                     {:?}",
                    state.acknowledged,
                    state.in_flight
                );
            }
            // What is stored is now the acknowledged value (a write that landed counts).
            if let Some(n) = [state.in_flight, state.acknowledged]
                .into_iter()
                .flatten()
                .find(|n| filter(*n) == stored)
            {
                state.acknowledged = Some(n);
            }
            state.in_flight = None;
        }
        *writers.lock().unwrap() = states;
        // ... so is the last acknowledged rotation ...
        if let Some(serial) = &rotated {
            let listed = admin(&http, &base, "GET", "/platform-certificates", Value::Null).await;
            assert!(
                listed
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|c| c["serial_no"].as_str() == Some(serial.as_str())),
                "round {round}: the acknowledged rotation to {serial} is gone"
            );
        }
        // ... and the identities are the same ones: a signed call verifies end to end.
        let now: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("sandbox.json")).unwrap(),
        )
        .unwrap();
        for field in [
            "mchid",
            "serial_no",
            "private_key_pem",
            "apiv3_key",
            "public_key_id",
        ] {
            assert_eq!(
                now[field], identity[field],
                "round {round}: {field} changed"
            );
        }
        let c = client(dir.path());
        c.call_json(
            Operation::ChangeGoldPlanStatus,
            json!({"sub_mchid": sub_mchid(0), "operation_type": "OPEN"})
                .to_string()
                .as_bytes(),
        )
        .await
        .unwrap_or_else(|e| panic!("round {round}: a signed call after the restart: {e}"));
        if round == kills {
            break;
        }

        // Writes and a rotation under way, then SIGKILL after a pseudo-random moment.
        let mut tasks = tokio::task::JoinSet::new();
        for w in 0..WRITERS {
            let (c, writers) = (c.clone(), writers.clone());
            tasks.spawn(async move {
                loop {
                    let n = {
                        let mut all = writers.lock().unwrap();
                        let state = &mut all[w];
                        state.next += 1;
                        state.in_flight = Some(state.next);
                        state.next
                    };
                    let args = json!({"sub_mchid": sub_mchid(w),
                                      "advertising_industry_filters": filter(n)});
                    let answer = c
                        .call_json(
                            Operation::SetAdvertisingIndustryFilter,
                            args.to_string().as_bytes(),
                        )
                        .await;
                    let mut all = writers.lock().unwrap();
                    if answer.is_err() {
                        return 0u64;
                    }
                    all[w].acknowledged = Some(n);
                    all[w].in_flight = None;
                }
            });
        }
        let rotation = {
            let (http, base) = (http.clone(), base.clone());
            tokio::spawn(async move {
                let mut last = None;
                loop {
                    let answer = http
                        .post(format!("{base}/sandbox/platform-certificates/rotate"))
                        .header("content-type", "application/json")
                        .body("{}")
                        .send()
                        .await;
                    let Ok(answer) = answer else { return last };
                    let Ok(text) = answer.text().await else {
                        return last;
                    };
                    let Ok(outcome) = serde_json::from_str::<Value>(&text) else {
                        return last;
                    };
                    last = outcome["new_serial_no"].as_str().map(str::to_owned);
                }
            })
        };
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        tokio::time::sleep(Duration::from_millis(20 + seed % 400)).await;
        // SIGKILL: no clean-up runs, as in a crash.
        child.kill().unwrap();
        child.wait().unwrap();
        while tasks.join_next().await.is_some() {}
        if let Some(serial) = rotation.await.unwrap() {
            rotated = Some(serial);
            rotations += 1;
        }
        acknowledged_writes = writers
            .lock()
            .unwrap()
            .iter()
            .map(|w| w.acknowledged.unwrap_or(0))
            .sum();
        (child, base) = start(dir.path());
    }
    child.kill().ok();
    child.wait().ok();
    eprintln!(
        "{kills} kills: {acknowledged_writes} filter writes acknowledged, {rotations} rounds \
         with an acknowledged rotation; nothing lost"
    );
}

//! `goldplan bulk` as a user runs it: a plan of many special merchants against a sandbox with a
//! rate limit and faults, the `bulk run` process killed with SIGKILL at random moments and run
//! again until done; then the sandbox's state equals the plan for every merchant, the report
//! equals the sandbox's state, and the repeated sends are bounded by what was in flight at
//! each kill.
//!
//! `GOLDPLAN_BULK_MERCHANTS` (default 200) and `GOLDPLAN_BULK_KILLS` (default 3) size it;
//! `cargo make bulk-10k` runs 10 000 merchants with 5 kills.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::rollout_sandbox;
use goldplan_bulk::{Journal, OpStatus, report};
use goldplan_sandbox::{Fault, FaultKind, RateLimit, Switch};
use serde_json::Value;

const TAGS: [&str; 6] = ["SOFTWARE", "GAME", "CAR", "FOOD", "POTOGRAPHY", "EDUCATION"];

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn sub_mchid(i: usize) -> String {
    format!("19{i:08}")
}

/// Two tags per merchant, varying, so a filter sent to the wrong merchant shows.
fn tags(i: usize) -> Vec<&'static str> {
    vec![
        TAGS[i % TAGS.len()],
        TAGS[(i / TAGS.len() + i + 1) % TAGS.len()],
    ]
    .into_iter()
    .fold(Vec::new(), |mut v, t| {
        if !v.contains(&t) {
            v.push(t);
        }
        v
    })
}

fn write_plan(path: &Path, merchants: usize) {
    let mut csv = String::from("sub_mchid,gold_plan,custom_page,industry_filter\n");
    for i in 0..merchants {
        csv.push_str(&format!(
            "{},OPEN,OPEN,{}\n",
            sub_mchid(i),
            tags(i).join("|")
        ));
    }
    std::fs::write(path, csv).unwrap();
}

fn goldplan(config: &Path) -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("goldplan"));
    c.arg("--config").arg(config);
    c
}

/// Operations the journal holds in flight (what a kill interrupted).
fn in_flight(journal: &Path) -> u64 {
    Journal::open_existing(journal)
        .unwrap()
        .operations()
        .unwrap()
        .iter()
        .filter(|op| op.status == OpStatus::InFlight)
        .count() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollout_killed_at_random_moments_ends_exactly_as_planned() {
    let merchants = env_number("GOLDPLAN_BULK_MERCHANTS", 200);
    let kills = env_number("GOLDPLAN_BULK_KILLS", 3);
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<String> = (0..merchants).map(sub_mchid).collect();
    let settings = goldplan_sandbox::Settings {
        rate_limit: Some(RateLimit {
            max_requests: 150,
            window_secs: 1,
        }),
        ..goldplan_sandbox::Settings::default()
    };
    let sandbox = rollout_sandbox(dir.path().join("sandbox"), ids.clone(), settings).await;
    let mchid = sandbox.info().unwrap().mchid;
    for (kind, count) in [
        (FaultKind::SystemError, 3),
        (FaultKind::ConnectionReset, 2),
        (FaultKind::RateLimited, 3),
        (FaultKind::TooManyRequests, 2),
    ] {
        let mut fault = Fault::new(kind);
        fault.count = count;
        fault.path = Some("/v3/goldplan/*".into());
        sandbox.inject_fault(fault).unwrap();
    }
    let config = dir.path().join("sandbox").join("sandbox.json");
    let plan = dir.path().join("plan.csv");
    let journal = dir.path().join("job.db");
    write_plan(&plan, merchants);
    let total = merchants as u64 * 3;

    // Run, and kill the run after a pseudo-random number of confirmations, `kills` times.
    let mut interrupted = 0u64;
    let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ merchants as u64;
    for k in 0..kills {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let share = total / (kills as u64 + 1);
        let wait_for = 1 + seed % share.max(1);
        let mut child = goldplan(&config)
            .args(["--json", "bulk", "run"])
            .arg(&plan)
            .arg("--journal")
            .arg(&journal)
            .args(["--concurrency", "16", "--rate", "400"])
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.path().join("run.err")).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let confirmed = tokio::task::spawn_blocking(move || {
            let mut done = 0u64;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let event: Value = serde_json::from_str(&line).unwrap();
                if event["event"] == "done" {
                    done += 1;
                    if done >= wait_for {
                        break;
                    }
                }
            }
            done
        })
        .await
        .unwrap();
        // SIGKILL: no clean-up runs, exactly like a crash or a power cut of the process.
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(
            journal.exists(),
            "bulk run ended ({status}) before opening its journal: {}",
            std::fs::read_to_string(dir.path().join("run.err")).unwrap_or_default()
        );
        let open = in_flight(&journal);
        interrupted += open;
        eprintln!("kill {k}: after {confirmed} confirmations, {open} operations in flight");
    }

    let started = Instant::now();
    let out = goldplan(&config)
        .args(["--json", "bulk", "run"])
        .arg(&plan)
        .arg("--journal")
        .arg(&journal)
        .args(["--concurrency", "16", "--rate", "400"])
        .output()
        .unwrap();
    let last: Value = out
        .stdout
        .split(|b| *b == b'\n')
        .rfind(|l| !l.is_empty())
        .map(|l| serde_json::from_slice::<Value>(l).unwrap())
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{last}");
    assert_eq!(last["event"], "finished");
    assert_eq!(last["done"], total);
    assert_eq!(last["failed"], 0);
    eprintln!(
        "final run: {} s, {} rate-limit answers absorbed",
        started.elapsed().as_secs(),
        last["rate_limited_answers"]
    );

    // The sandbox's state is the plan, merchant by merchant.
    for (i, id) in ids.iter().enumerate() {
        let state = sandbox.sub_merchant(&mchid, id).unwrap();
        assert_eq!(state.gold_plan, Switch::Open, "{id}");
        assert_eq!(state.custom_page, Switch::Open, "{id}");
        assert_eq!(state.advertising_industry_filters, tags(i), "{id}");
    }
    // The report is the sandbox's state: what WeChat Pay confirmed, with a Request-ID.
    let job = Journal::open_existing(&journal).unwrap();
    let report = report(&job).unwrap();
    assert_eq!(report.merchants.len(), merchants);
    for (i, row) in report.merchants.iter().enumerate() {
        assert_eq!(row.sub_mchid, ids[i]);
        for (switch, want) in [
            (&row.gold_plan, "OPEN".to_owned()),
            (&row.custom_page, "OPEN".to_owned()),
            (&row.industry_filter, tags(i).join("|")),
        ] {
            let confirmed = switch
                .as_ref()
                .unwrap_or_else(|| panic!("{}", row.sub_mchid));
            assert_eq!(confirmed.value, want, "{}", row.sub_mchid);
            assert!(confirmed.request_id.is_some(), "{}", row.sub_mchid);
        }
        assert!(row.failures.is_empty() && row.pending == 0, "{row:?}");
    }

    // Repeats: every operation was accepted once, plus at most the ones in flight at a kill
    // (and the faults the gateway injected, which answered without applying anything). The
    // request log keeps the last 1000 requests: the count is exact for small plans.
    let accepted: Vec<_> = sandbox
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/v3/goldplan/") && r.status / 100 == 2)
        .collect();
    if total + interrupted < 900 {
        let mut per_operation: HashMap<(String, String), u64> = HashMap::new();
        for r in &accepted {
            let body: Value = serde_json::from_str(r.body.as_deref().unwrap_or("{}")).unwrap();
            let sub = body["sub_mchid"].as_str().unwrap_or_default().to_owned();
            *per_operation.entry((sub, r.path.clone())).or_default() += 1;
        }
        assert_eq!(
            per_operation.len() as u64,
            total,
            "every operation reached the gateway"
        );
        let repeats: u64 = per_operation.values().map(|n| n - 1).sum();
        assert!(
            repeats <= interrupted,
            "{repeats} repeated sends, {interrupted} operations in flight at the kills"
        );
    }
    sandbox.shutdown().await.unwrap();
    // Generous: the point is that the job ends, not how fast (bench for that).
    assert!(started.elapsed() < Duration::from_secs(600));
}

#[test]
fn a_plan_with_problems_names_each_line_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("bad.csv");
    std::fs::write(
        &plan,
        "sub_mchid,gold_plan,industry_filter\n\
         1900000109,OPEN,SOFTWARE|GAME\n\
         19000001x9,OPEN,\n\
         1900000110,MAYBE,\n\
         1900000111,OPEN,SOFTWARE|GAME|CAR|FOOD\n\
         1900000109,CLOSE,\n",
    )
    .unwrap();
    let out = Command::new(assert_cmd::cargo::cargo_bin("goldplan"))
        .args(["--json", "bulk", "plan"])
        .arg(&plan)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["ok"], false);
    let lines: Vec<u64> = doc["error"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["line"].as_u64().unwrap())
        .collect();
    for line in [3, 4, 5, 6] {
        assert!(lines.contains(&line), "line {line} not named: {doc}");
    }
    // `run` refuses the same plan before opening a journal (no configuration needed to see
    // that it is wrong, and nothing is created).
    let journal = dir.path().join("job.db");
    let out = Command::new(assert_cmd::cargo::cargo_bin("goldplan"))
        .args(["--mchid", "1900000100", "bulk", "run"])
        .arg(&plan)
        .arg("--journal")
        .arg(&journal)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 3"));
    assert!(!journal.exists());

    // The README's example plan is valid.
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/bulk/rollout.csv");
    let out = Command::new(assert_cmd::cargo::cargo_bin("goldplan"))
        .args(["--json", "bulk", "plan"])
        .arg(&example)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (doc["merchants"].as_u64(), doc["operations"].as_u64()),
        (Some(5), Some(9))
    );

    let good = dir.path().join("good.jsonl");
    std::fs::write(
        &good,
        "{\"sub_mchid\":\"1900000109\",\"gold_plan\":\"OPEN\",\"custom_page\":\"OPEN\"}\n\
         {\"sub_mchid\":\"1900000110\",\"gold_plan\":\"CLOSE\"}\n",
    )
    .unwrap();
    let out = Command::new(assert_cmd::cargo::cargo_bin("goldplan"))
        .args(["--json", "bulk", "plan"])
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["merchants"], 2);
    assert_eq!(doc["operations"], 3);
}

//! What `goldplan bulk run` shows while it works: a progress bar (done/failed/remaining, rate,
//! ETA) when its output is a terminal — run here in a pseudo-terminal, as a person would —,
//! nothing but the closing summary when it is not, and one JSON object per line with `--json`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::Read;
use std::path::Path;
use std::process::Command;

mod common;

use common::rollout_sandbox;
use goldplan_sandbox::{SandboxHandle, Settings};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use serde_json::Value;

const MERCHANTS: usize = 40;
/// Slow enough (3 operations per merchant at this rate: about 4 s) for the bar to be drawn
/// several times.
const RATE: &str = "30";

fn goldplan() -> String {
    assert_cmd::cargo::cargo_bin("goldplan")
        .display()
        .to_string()
}

async fn sandbox(dir: &Path) -> SandboxHandle {
    let ids: Vec<String> = (0..MERCHANTS).map(|i| format!("19{i:08}")).collect();
    let mut plan = String::from("sub_mchid,gold_plan,custom_page,industry_filter\n");
    for id in &ids {
        plan.push_str(&format!("{id},OPEN,OPEN,SOFTWARE|GAME\n"));
    }
    // One merchant the gateway does not know: its operations fail, and the bar says so.
    plan.push_str("1999999999,OPEN,,\n");
    std::fs::write(dir.join("plan.csv"), plan).unwrap();
    rollout_sandbox(dir.join("sandbox"), ids, Settings::default()).await
}

fn run_args(dir: &Path, journal: &str) -> Vec<String> {
    vec![
        "--config".into(),
        dir.join("sandbox/sandbox.json").display().to_string(),
        "bulk".into(),
        "run".into(),
        dir.join("plan.csv").display().to_string(),
        "--journal".into(),
        dir.join(journal).display().to_string(),
        "--rate".into(),
        RATE.into(),
    ]
}

/// Runs `goldplan` in a pseudo-terminal and returns everything it drew, and its exit code.
fn in_terminal(args: &[String]) -> (String, u32) {
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 24,
            cols: 160,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut command = CommandBuilder::new(goldplan());
    command.args(args);
    command.env("TERM", "xterm-256color");
    let mut child = pair.slave.spawn_command(command).unwrap();
    // Only the child holds the terminal now, so reading ends when it exits.
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let drawn = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let mut chunk = [0u8; 4096];
        // Linux answers EIO once the last writer is gone: that is the end of the output.
        while let Ok(n) = reader.read(&mut chunk) {
            if n == 0 {
                break;
            }
            bytes.extend_from_slice(&chunk[..n]);
        }
        bytes
    });
    let status = child.wait().unwrap();
    drop(pair.master);
    let bytes = drawn.join().unwrap();
    (
        String::from_utf8_lossy(&bytes).into_owned(),
        status.exit_code(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_gets_a_progress_bar_a_pipe_gets_a_summary_and_json_gets_events() {
    let dir = tempfile::tempdir().unwrap();
    let sb = sandbox(dir.path()).await;
    let total = MERCHANTS * 3 + 1;

    // A terminal: the bar, redrawn as it goes, with the counts, the rate and the ETA.
    let args = run_args(dir.path(), "tty.db");
    let (drawn, code) = tokio::task::spawn_blocking(move || in_terminal(&args))
        .await
        .unwrap();
    assert_eq!(code, 3, "one operation refused: exit 3\n{drawn}");
    assert!(
        drawn.contains('\u{1b}'),
        "drawn with terminal controls:\n{drawn}"
    );
    let positions: Vec<usize> = (1..total)
        .filter(|n| drawn.contains(&format!(" {n}/{total} ")))
        .collect();
    assert!(
        positions.len() >= 3,
        "the bar moved through several positions of {total}: {positions:?}\n{drawn}"
    );
    for part in ["failed,", "left,", "/s (limit ", "ETA "] {
        assert!(drawn.contains(part), "the bar shows {part:?}:\n{drawn}");
    }
    // A failure is printed above the bar, and the summary closes the run.
    assert!(
        drawn.contains("failed: 1999999999 change_gold_plan_status"),
        "{drawn}"
    );
    assert!(
        drawn.contains(&format!(
            "{} done ({} in this run), 1 failed, 0 left",
            total - 1,
            total - 1
        )),
        "{drawn}"
    );

    // Not a terminal: no bar, no control characters, only the summary.
    let out = Command::new(goldplan())
        .args(run_args(dir.path(), "pipe.db"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains("ETA"),
        "{stderr}"
    );
    assert!(stderr.contains("1 failed, 0 left"), "{stderr}");
    assert!(out.stdout.is_empty());

    // --json: one event per line, machine-readable, from start to finish.
    let mut args = run_args(dir.path(), "json.db");
    args.insert(2, "--json".into());
    let out = Command::new(goldplan()).args(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let events: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"started"));
    assert_eq!(kinds.last(), Some(&"finished"));
    assert_eq!(kinds.iter().filter(|k| **k == "done").count(), total - 1);
    assert_eq!(kinds.iter().filter(|k| **k == "failed").count(), 1);
    let progress: Vec<&Value> = events.iter().filter(|e| e["event"] == "progress").collect();
    assert!(
        progress.len() >= 3,
        "progress while it runs: {}",
        progress.len()
    );
    for p in &progress {
        for field in [
            "done",
            "failed",
            "remaining",
            "rate_per_sec",
            "elapsed_secs",
        ] {
            assert!(p[field].is_number(), "{field} in {p}");
        }
        assert!(p.get("eta_secs").is_some(), "{p}");
    }
    let last = events.last().unwrap();
    assert_eq!(
        (last["done"].as_u64(), last["failed"].as_u64()),
        (Some(total as u64 - 1), Some(1))
    );
    sb.shutdown().await.unwrap();
}

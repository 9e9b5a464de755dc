//! A private key or the APIv3 key given to the wrong setting — as a flag, as a `GOLDPLAN_*`
//! variable, in the config file, or as the config file's path — never comes back in what the
//! `goldplan` binary prints (`tests/vectors/secret_sweep.json`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{Value, json};

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

fn sweep() -> Value {
    serde_json::from_str(&std::fs::read_to_string(vectors().join("secret_sweep.json")).unwrap())
        .unwrap()
}

/// The binary with none of the developer's `GOLDPLAN_*` variables.
fn goldplan() -> Command {
    let mut cmd = Command::cargo_bin("goldplan").unwrap();
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("GOLDPLAN_") {
            cmd.env_remove(name);
        }
    }
    cmd
}

/// A complete, valid public-key-mode configuration whose gateway is a closed loopback port:
/// every setting is checked and only the one under test is wrong.
fn valid_config(dir: &Path) -> Value {
    let notification: Value = serde_json::from_str(
        &std::fs::read_to_string(vectors().join("notification.json")).unwrap(),
    )
    .unwrap();
    let public_key = dir.join("wechatpay_pub_key.pem");
    std::fs::write(
        &public_key,
        notification["public_key_pem"].as_str().unwrap(),
    )
    .unwrap();
    json!({
        "base_url": "http://127.0.0.1:9",
        "mchid": "1900000100",
        "serial_no": "3775B6A45ACD588826D15E583A95F5DD12345678",
        "private_key": vectors().join("keys/merchant_test_key.pem"),
        "apiv3_key": notification["apiv3_key"],
        "public_key_id": notification["public_key_id"],
        "public_key": public_key,
        "mode": "public_key",
        "timeout": 2,
        "connect_timeout": 1,
    })
}

fn assert_not_echoed(
    what: &str,
    output: &std::process::Output,
    forbidden: &[String],
    window: usize,
) {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    for secret in forbidden {
        let chars: Vec<char> = secret.chars().collect();
        for start in 0..=chars.len().saturating_sub(window) {
            let piece: String = chars[start..start + window].iter().collect();
            assert!(
                !all.contains(&piece),
                "{what}: {piece:?} is echoed in:\n{all}"
            );
        }
    }
}

#[test]
fn a_secret_in_any_setting_is_never_echoed() {
    let sweep = sweep();
    let window = usize::try_from(sweep["window"].as_u64().unwrap()).unwrap();
    let forbidden: Vec<String> = sweep["must_not_appear"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let valid = valid_config(dir.path());
    let valid_file = dir.path().join("valid.json");
    std::fs::write(&valid_file, valid.to_string()).unwrap();

    // The configuration is right: the sweep below fails only because of the misplaced value.
    let baseline = goldplan()
        .arg("--config")
        .arg(&valid_file)
        .arg("doctor")
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&baseline.stdout);
    assert!(
        shown.contains("private key loaded") && shown.contains("public key"),
        "{shown}"
    );

    let mut runs = 0;
    for field in sweep["fields"].as_array().unwrap() {
        let field = field.as_str().unwrap();
        for (name, value) in sweep["values"].as_object().unwrap() {
            let value = value.as_str().unwrap();
            let what = format!("{field} given {name}");
            for json_flag in [false, true] {
                let mut with_json = goldplan();
                if json_flag {
                    with_json.arg("--json");
                }
                if field == "config_path" {
                    let out = with_json.arg("--config").arg(value).arg("doctor").output();
                    assert_not_echoed(&what, &out.unwrap(), &forbidden, window);
                    let mut cmd = goldplan();
                    if json_flag {
                        cmd.arg("--json");
                    }
                    let out = cmd.env("GOLDPLAN_CONFIG", value).arg("doctor").output();
                    assert_not_echoed(&what, &out.unwrap(), &forbidden, window);
                    runs += 2;
                    continue;
                }
                // As a flag, over a valid config file.
                let flag = format!("--{}", field.replace('_', "-"));
                let out = with_json
                    .arg("--config")
                    .arg(&valid_file)
                    .arg(&flag)
                    .arg(value)
                    .arg("doctor")
                    .output()
                    .unwrap();
                assert_not_echoed(&format!("{what} as {flag}"), &out, &forbidden, window);
                // As a variable.
                let variable = format!("GOLDPLAN_{}", field.to_ascii_uppercase());
                let mut cmd = goldplan();
                if json_flag {
                    cmd.arg("--json");
                }
                let out = cmd
                    .arg("--config")
                    .arg(&valid_file)
                    .env(&variable, value)
                    .arg("doctor")
                    .output()
                    .unwrap();
                assert_not_echoed(&format!("{what} as {variable}"), &out, &forbidden, window);
                // In the config file.
                let mut config = valid.clone();
                config[field] = json!(value);
                let file = dir.path().join(format!("{field}-{name}.json"));
                std::fs::write(&file, config.to_string()).unwrap();
                let mut cmd = goldplan();
                if json_flag {
                    cmd.arg("--json");
                }
                let out = cmd
                    .arg("--config")
                    .arg(&file)
                    .arg("doctor")
                    .output()
                    .unwrap();
                assert_not_echoed(&format!("{what} in the file"), &out, &forbidden, window);
                runs += 3;
            }
        }
    }
    assert!(runs > 150, "the sweep ran {runs} cases");
}

/// Every window of `window` characters of each line of `secret` (PEM armour lines skipped).
fn windows(secret: &str, window: usize) -> Vec<String> {
    secret
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .flat_map(|line| {
            let chars: Vec<char> = line.trim().chars().collect();
            chars
                .windows(window)
                .map(|w| w.iter().collect::<String>())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The CLI at `--log trace`, through successes, a tampered answer, a wrong APIv3 key and a
/// callback check, against a sandbox whose keys are known: neither the merchant private key
/// nor an APIv3 key appears in anything it prints, and a callback's decrypted plaintext only
/// where it was asked for (the result of `notify verify` on stdout), never in a log line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_trace_level_the_cli_prints_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let sandbox = goldplan_sandbox::Sandbox::start(goldplan_sandbox::SandboxConfig {
        state_dir: Some(state.clone()),
        mode: goldplan_sandbox::KeyMode::Combined,
        ..goldplan_sandbox::SandboxConfig::default()
    })
    .await
    .unwrap();
    let info = sandbox.info().unwrap();
    let config = state.join("sandbox.json");
    let sub = info.sub_mchids[0].clone();
    let notification: Value = serde_json::from_str(
        &std::fs::read_to_string(vectors().join("notification.json")).unwrap(),
    )
    .unwrap();
    let case = &notification["cases"][0];
    let headers = dir.path().join("headers.json");
    std::fs::write(&headers, case["headers"].to_string()).unwrap();
    let body = dir.path().join("body");
    std::fs::write(&body, case["body"].as_str().unwrap()).unwrap();
    let vector_key = notification["apiv3_key"].as_str().unwrap().to_owned();
    let plaintext = case["expect"]["plaintext"].as_str().unwrap().to_owned();
    let public_key = dir.path().join("wechatpay_pub_key.pem");
    std::fs::write(
        &public_key,
        notification["public_key_pem"].as_str().unwrap(),
    )
    .unwrap();

    let control = sandbox.control();
    let (key, public_key_id, now) = (
        vector_key.clone(),
        notification["public_key_id"].as_str().unwrap().to_owned(),
        case["now"].to_string(),
    );
    let runs = tokio::task::spawn_blocking(move || {
        let run = |args: &[&str]| {
            let out = goldplan()
                .arg("--log")
                .arg("trace")
                .arg("--config")
                .arg(&config)
                .args(args)
                .output()
                .unwrap();
            (args.join(" "), out)
        };
        let mut runs = vec![
            run(&["doctor"]),
            run(&[
                "gold-plan",
                "change-gold-plan-status",
                "--sub-mchid",
                &sub,
                "--operation-type",
                "OPEN",
            ]),
            run(&["--json", "request", "GET", "/v3/certificates"]),
            run(&[
                "certs",
                "download",
                "--output",
                dir.path().join("certs").to_str().unwrap(),
            ]),
        ];
        control
            .inject_fault(
                goldplan_sandbox::Fault::new(goldplan_sandbox::FaultKind::BadSignature)
                    .on_path("/v3/goldplan/*"),
            )
            .unwrap();
        runs.push(run(&[
            "gold-plan",
            "close-advertising-show",
            "--sub-mchid",
            &sub,
        ]));
        // The right merchant with another merchant's APIv3 key: the certificates cannot be
        // decrypted, and the message must not say with what.
        runs.push(run(&[
            "--apiv3-key",
            &key,
            "certs",
            "download",
            "--output",
            dir.path().join("c2").to_str().unwrap(),
        ]));
        let verify = goldplan()
            .args(["--log", "trace", "--config"])
            .arg(&config)
            .args(["notify", "verify"])
            .args(["--mchid", "1900000100", "--apiv3-key", &key])
            .args(["--public-key-id", &public_key_id])
            .arg("--public-key")
            .arg(&public_key)
            .arg("--headers")
            .arg(&headers)
            .arg("--body")
            .arg(&body)
            .args(["--now", &now])
            .output()
            .unwrap();
        runs.push(("notify verify".into(), verify));
        runs
    })
    .await
    .unwrap();

    let merchant_key = windows(&info.private_key_pem, 16);
    let mut traced = 0;
    for (what, out) in &runs {
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        traced += stderr.matches("TRACE").count() + stderr.matches("DEBUG").count();
        for text in [&stdout, &stderr] {
            for piece in &merchant_key {
                assert!(
                    !text.contains(piece.as_str()),
                    "{what}: the private key in:\n{text}"
                );
            }
            for key in [&info.apiv3_key, &vector_key] {
                assert!(
                    !text.contains(key.as_str()),
                    "{what}: an APIv3 key in:\n{text}"
                );
            }
        }
        assert!(
            !stderr.contains(&plaintext),
            "{what}: decrypted plaintext logged:\n{stderr}"
        );
    }
    // The scan saw real output: the calls ran, the fault and the wrong key were reported, and
    // the callback was decrypted where asked.
    assert!(
        traced > 20,
        "too little was logged at trace level to prove anything"
    );
    assert!(
        runs.iter().all(|(_, out)| !out.stderr.contains(&0x1b)),
        "colour codes in a log that is not a terminal"
    );
    let (_, open) = &runs[1];
    assert!(
        open.status.success(),
        "{}",
        String::from_utf8_lossy(&open.stderr)
    );
    assert!(!runs[4].1.status.success() && !runs[5].1.status.success());
    let (_, verify) = runs.last().unwrap();
    assert!(
        String::from_utf8_lossy(&verify.stdout).contains(&plaintext),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    drop(sandbox);
}

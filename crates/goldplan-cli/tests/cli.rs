//! The `goldplan` binary, run as a user runs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

fn goldplan() -> Command {
    let mut cmd = Command::cargo_bin("goldplan").unwrap();
    // The environment of the developer running the tests must not leak in.
    for var in [
        "GOLDPLAN_CONFIG",
        "GOLDPLAN_MCHID",
        "GOLDPLAN_SERIAL_NO",
        "GOLDPLAN_PRIVATE_KEY",
        "GOLDPLAN_APIV3_KEY",
        "GOLDPLAN_PUBLIC_KEY_ID",
        "GOLDPLAN_PUBLIC_KEY",
        "GOLDPLAN_BASE_URL",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// A config file for the merchant of the callback vectors (public-key mode).
fn notification_config(dir: &tempfile::TempDir) -> PathBuf {
    let v: Value = serde_json::from_str(
        &std::fs::read_to_string(vectors().join("notification.json")).unwrap(),
    )
    .unwrap();
    let config = serde_json::json!({
        "mchid": "1900000100",
        "serial_no": "3775B6A45ACD588826D15E583A95F5DD12345678",
        "private_key_path": vectors().join("keys/merchant_test_key.pem"),
        "apiv3_key": v["apiv3_key"],
        "public_key_id": v["public_key_id"],
        "public_key_pem": v["public_key_pem"],
        "base_url": "http://127.0.0.1:9",
    });
    let path = dir.path().join("config.json");
    std::fs::write(&path, config.to_string()).unwrap();
    path
}

fn write_case(dir: &tempfile::TempDir, case: &Value) -> (PathBuf, PathBuf) {
    let headers = dir.path().join("headers.json");
    let body = dir.path().join("body.json");
    std::fs::write(&headers, case["headers"].to_string()).unwrap();
    std::fs::write(&body, case["body"].as_str().unwrap()).unwrap();
    (headers, body)
}

#[test]
fn notify_verify_decrypts_the_spec_callback_and_rejects_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let config = notification_config(&dir);
    let v: Value = serde_json::from_str(
        &std::fs::read_to_string(vectors().join("notification.json")).unwrap(),
    )
    .unwrap();
    let n1 = &v["cases"][0];
    let (headers, body) = write_case(&dir, n1);
    let out = goldplan()
        .args(["--json", "--config"])
        .arg(&config)
        .args(["notify", "verify", "--now", "1700000000", "--headers"])
        .arg(&headers)
        .arg("--body")
        .arg(&body)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["id"], n1["expect"]["id"]);
    assert_eq!(doc["resource"]["out_trade_no"], "ORDER20240101");

    // Without --now the capture is too old: a verification failure, exit 4.
    let out = goldplan()
        .arg("--config")
        .arg(&config)
        .args(["notify", "verify", "--headers"])
        .arg(&headers)
        .arg("--body")
        .arg(&body)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("300"));

    // Header lines in HTTP form work too; a probe signature is rejected.
    let lines: String = n1["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            if k == "Wechatpay-Signature" {
                format!("{k}: WECHATPAY/SIGNTEST/abc\n")
            } else {
                format!("{k}: {}\n", v.as_str().unwrap())
            }
        })
        .collect();
    std::fs::write(&headers, lines).unwrap();
    let out = goldplan()
        .args(["--json", "--config"])
        .arg(&config)
        .args(["notify", "verify", "--now", "1700000000", "--headers"])
        .arg(&headers)
        .arg("--body")
        .arg(&body)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["error"]["kind"], "signature_probe");
}

#[test]
fn receipt_check_follows_the_vectors() {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(vectors().join("receipt.json")).unwrap())
            .unwrap();
    for (list, code) in [("cases", 0), ("negative", 4)] {
        for case in v[list].as_array().unwrap() {
            let url = format!(
                "{}?sub_mch_id={}&out_trade_no={}&check_code={}",
                case["configured_link"].as_str().unwrap(),
                case["sub_mch_id"].as_str().unwrap(),
                case["out_trade_no"].as_str().unwrap(),
                case["check_code"].as_str().unwrap()
            );
            goldplan()
                .args([
                    "receipt",
                    "check",
                    "--url",
                    &url,
                    "--link",
                    case["configured_link"].as_str().unwrap(),
                    "--transaction-id",
                    case["transaction_id"].as_str().unwrap(),
                ])
                .assert()
                .code(code);
        }
    }
}

#[test]
fn configuration_problems_are_usage_errors_and_doctor_reports_them() {
    goldplan()
        .args(["gold-plan", "close-advertising-show", "--sub-mchid", "1"])
        .assert()
        .code(2);
    goldplan().args(["no-such-command"]).assert().code(2);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.json");
    std::fs::write(
        &config,
        r#"{"mchid":"1900000100","serial_no":"ABC","private_key_pem":"junk","apiv3_key":"short"}"#,
    )
    .unwrap();
    let out = goldplan()
        .args(["--json", "--config"])
        .arg(&config)
        .arg("doctor")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let failed: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "fail")
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["private_key"]);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("junk"),
        "never echo key material"
    );
}

#[test]
fn unreachable_gateway_is_a_network_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = notification_config(&dir);
    let out = goldplan()
        .args(["--json", "--config"])
        .arg(&config)
        .args([
            "--timeout-secs",
            "2",
            "gold-plan",
            "close-advertising-show",
            "--sub-mchid",
            "1900000109",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["error"]["kind"], "transport");
}

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
        "GOLDPLAN_MERCHANT_CERT",
        "GOLDPLAN_MERCHANT_CERTIFICATE",
        "GOLDPLAN_TIMEOUT",
        "GOLDPLAN_TIMEOUT_SECS",
        "GOLDPLAN_CONNECT_TIMEOUT",
        "GOLDPLAN_MODE",
        "GOLDPLAN_PROXY",
        "GOLDPLAN_MAX_ATTEMPTS",
        "GOLDPLAN_MAX_SKEW_SECS",
        "GOLDPLAN_MAX_RESPONSE_BODY",
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

#[test]
fn demo_runs_the_whole_story_with_no_configuration() {
    let out = goldplan().args(["--json", "demo"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["ok"], true);
    let steps: Vec<&str> = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    for expected in [
        "platform certificates",
        "change_gold_plan_status OPEN (JSAPI_AND_MINIPROGRAM)",
        "change_custom_page_status OPEN",
        "set_advertising_industry_filter",
        "certificate rotation",
        "open_advertising_show",
        "tampered response",
        "close_advertising_show",
        "jsapi_prepay",
        "request_payment",
        "the payer pays",
        "payment notification",
        "query_order_by_out_trade_no",
        "query_order_by_transaction_id",
        "receipt page",
        // CI installs Chromium, so the demo's last step runs the browser there.
        "receipt page checked in a browser",
    ] {
        assert!(
            steps.contains(&expected),
            "missing step {expected}: {steps:?}"
        );
    }
    let with_ids = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["request_id"].is_string())
        .count();
    assert!(with_ids >= 9, "every API step shows its Request-ID");
    let browser = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "receipt page checked in a browser")
        .unwrap();
    let detail = browser["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("all 9 rules pass: onIframeReady SHOW_CUSTOM_PAGE after "),
        "{detail}"
    );
}

/// `goldplan sandbox` as a process, configured by its own sandbox.json.
struct SandboxProcess {
    child: std::process::Child,
    config: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_sandbox(mode: &str) -> SandboxProcess {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("goldplan"))
        .args(["sandbox", "--port", "0", "--mode", mode, "--state-dir"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("http://127.0.0.1:"), "{first}");
    SandboxProcess {
        child,
        config: dir.path().join("sandbox.json"),
        _dir: dir,
    }
}

#[test]
fn every_command_against_a_sandbox_process() {
    let sb = start_sandbox("combined");
    let run = |args: &[&str]| {
        let out = goldplan()
            .arg("--json")
            .arg("--config")
            .arg(&sb.config)
            .args(args)
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (
            out.status.code(),
            doc,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, doc, err) = run(&[
        "gold-plan",
        "change-gold-plan-status",
        "--sub-mchid",
        "1900000109",
        "--operation",
        "OPEN",
        "--scene",
        "JSAPI",
    ]);
    assert_eq!(code, Some(0), "{err} {doc}");
    assert_eq!(doc["data"]["sub_mchid"], "1900000109");
    assert!(doc["request_id"].is_string());
    let (code, doc, _) = run(&[
        "gold-plan",
        "set-advertising-industry-filter",
        "--sub-mchid",
        "1900000109",
        "--industry",
        "SOFTWARE",
        "--industry",
        "POTOGRAPHY",
    ]);
    assert_eq!(code, Some(0), "{doc}");
    let (code, _, _) = run(&[
        "gold-plan",
        "open-advertising-show",
        "--sub-mchid",
        "1900000109",
    ]);
    assert_eq!(code, Some(0));
    let (code, _, _) = run(&[
        "gold-plan",
        "close-advertising-show",
        "--sub-mchid",
        "1900000109",
    ]);
    assert_eq!(code, Some(0));
    // The sandbox has no receipt link configured: a business error, exit 3, with WeChat's words.
    let (code, doc, _) = run(&[
        "gold-plan",
        "change-custom-page-status",
        "--sub-mchid",
        "1900000109",
        "--operation",
        "OPEN",
    ]);
    assert_eq!(code, Some(3));
    assert_eq!(doc["error"]["code"], "INVALID_REQUEST");
    assert_eq!(doc["error"]["api_message"], "服务商未配置商家小票链接");
    // Re-opening within 24 hours of a close is refused.
    run(&[
        "gold-plan",
        "change-gold-plan-status",
        "--sub-mchid",
        "1900000109",
        "--operation",
        "CLOSE",
    ]);
    let (code, doc, _) = run(&[
        "gold-plan",
        "change-gold-plan-status",
        "--sub-mchid",
        "1900000109",
        "--operation",
        "OPEN",
    ]);
    assert_eq!(code, Some(3), "{doc}");

    let (code, doc, _) = run(&["request", "GET", "/v3/certificates?algorithm_type=RSA"]);
    assert_eq!(code, Some(0));
    assert!(doc["body"]["data"].is_array());

    let certs = tempfile::tempdir().unwrap();
    let (code, doc, err) = run(&["certs", "download", "-o", certs.path().to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    let written = doc["certificates"].as_array().unwrap();
    assert!(!written.is_empty());
    for c in written {
        let path = c["path"].as_str().unwrap();
        assert!(path.ends_with(&format!(
            "wechatpay_{}.pem",
            c["serial_no"].as_str().unwrap()
        )));
        let pem = std::fs::read_to_string(path).unwrap();
        assert!(
            pem.starts_with("-----BEGIN CERTIFICATE-----")
                && pem.ends_with("-----END CERTIFICATE-----\n")
        );
    }

    let (code, doc, _) = run(&["doctor"]);
    assert_eq!(code, Some(0), "{doc}");
    let checks: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    for check in [
        "private_key",
        "merchant_certificate",
        "apiv3_key",
        "reachability",
        "signature",
        "clock_skew",
        "key_mode",
        "platform_certificates",
    ] {
        assert!(
            checks.contains(&check),
            "doctor skipped {check}: {checks:?}"
        );
    }
}

#[test]
fn pay_prepays_signs_queries_and_closes_against_a_sandbox_process() {
    let sb = start_sandbox("public_key");
    let run = |args: &[&str]| {
        let out = goldplan()
            .arg("--json")
            .arg("--config")
            .arg(&sb.config)
            .arg("pay")
            .args(args)
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (out.status.code(), doc)
    };
    let prepay = |out_trade_no: &str, amount: &str| {
        run(&[
            "prepay",
            "--sp-appid",
            "wx8888888888888888",
            "--sp-mchid",
            "1900000100",
            "--sub-mchid",
            "1900000109",
            "--description",
            "点金计划测试商品",
            "--out-trade-no",
            out_trade_no,
            "--notify-url",
            "https://provider.example.com/wxpay/notify",
            "--amount",
            amount,
            "--payer",
            r#"{"sp_openid":"oSpTest0123456789abcdefABCDE"}"#,
        ])
    };
    let (code, doc) = prepay("CLI20261207", r#"{"total":100}"#);
    assert_eq!(code, Some(0), "{doc}");
    let prepay_id = doc["data"]["prepay_id"].as_str().unwrap().to_owned();
    assert!(prepay_id.starts_with("wx"), "{doc}");

    let (code, doc) = run(&[
        "sign",
        "--app-id",
        "wx8888888888888888",
        "--prepay-id",
        &prepay_id,
    ]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["data"]["package"], format!("prepay_id={prepay_id}"));
    assert_eq!(doc["data"]["signType"], "RSA");
    assert_eq!(doc["data"]["paySign"].as_str().unwrap().len(), 344);

    let order = [
        "--out-trade-no",
        "CLI20261207",
        "--sp-mchid",
        "1900000100",
        "--sub-mchid",
        "1900000109",
    ];
    let (code, doc) = run(&[&["query"], &order[..]].concat());
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["data"]["trade_state"], "NOTPAY");
    let (code, doc) = run(&[&["close"], &order[..]].concat());
    assert_eq!(code, Some(0), "{doc}");
    let (code, doc) = run(&[&["query-order-by-out-trade-no"], &order[..]].concat());
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["data"]["trade_state"], "CLOSED");

    // A closed order cannot be prepaid again: WeChat's code, exit 3.
    let (code, doc) = prepay("CLI20261207", r#"{"total":100}"#);
    assert_eq!(code, Some(3), "{doc}");
    assert_eq!(doc["error"]["code"], "ORDER_CLOSED");
    // Refused before sending: exit 2, the field named.
    let (code, doc) = prepay("CLI20261208", r#"{"total":0}"#);
    assert_eq!(code, Some(2), "{doc}");
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("amount.total"),
        "{doc}"
    );
    let (code, doc) = run(&[
        "query-by-id",
        "--transaction-id",
        "4200000000000000000000000001",
        "--sp-mchid",
        "1900000100",
        "--sub-mchid",
        "1900000109",
    ]);
    assert_eq!(code, Some(3), "{doc}");
    assert_eq!(doc["error"]["code"], "ORDER_NOT_EXIST");
}

#[test]
fn a_public_key_only_merchant_gets_told_to_configure_the_public_key() {
    let sb = start_sandbox("public_key");
    let certs = tempfile::tempdir().unwrap();
    let out = goldplan()
        .arg("--config")
        .arg(&sb.config)
        .args(["certs", "download", "-o"])
        .arg(certs.path())
        .output()
        .unwrap();
    // The certificate family: the same grouping as the bindings' error classes.
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("RESOURCE_NOT_EXISTS") && err.contains("public key"),
        "{err}"
    );
}

// ---- issue 11: secrets in errors, bounded input files --------------------------------------

/// The base64 body of the merchant test key without its BEGIN/END lines: how keys are often
/// put in environment variables.
fn key_body() -> String {
    std::fs::read_to_string(vectors().join("keys/merchant_test_key.pem"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat()
}

fn assert_not_echoed(output: &std::process::Output, secret: &str) {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    for window in secret.as_bytes().windows(16).step_by(8) {
        let window = std::str::from_utf8(window).unwrap();
        assert!(!all.contains(window), "the key is echoed: {all}");
    }
}

/// A config file without the private key (it comes from the environment or a flag).
fn config_without_key(dir: &tempfile::TempDir) -> PathBuf {
    let config = notification_config(dir);
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("private_key_path");
    std::fs::write(&config, v.to_string()).unwrap();
    config
}

#[test]
fn key_content_in_goldplan_private_key_is_never_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_without_key(&dir);
    let body = key_body();
    for args in [
        vec![
            "--json",
            "gold-plan",
            "close-advertising-show",
            "--sub-mchid",
            "1900000109",
        ],
        vec![
            "gold-plan",
            "close-advertising-show",
            "--sub-mchid",
            "1900000109",
        ],
        vec!["--json", "doctor"],
        vec!["doctor"],
        vec!["--help"],
    ] {
        let out = goldplan()
            .env("GOLDPLAN_PRIVATE_KEY", &body)
            .arg("--config")
            .arg(&config)
            .args(&args)
            .output()
            .unwrap();
        assert_not_echoed(&out, &body);
        let expected = match args.as_slice() {
            [.., "doctor"] => 6,
            ["--help"] => 0,
            _ => 2,
        };
        assert_eq!(out.status.code(), Some(expected), "{args:?}");
        if expected != 0 {
            let all = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            assert!(all.contains("private key path"), "{all}");
            assert!(all.contains("looks like key content"), "{all}");
        }
    }
    // An APIv3 key that starts with '-' is a value, not an unknown flag clap would quote.
    let apiv3 = "-Abcdefghijklmnopqrstuvwxyz01234";
    let out = goldplan()
        .args(["--json", "--apiv3-key", apiv3, "--config"])
        .arg(&config)
        .args(["--private-key", "/no/such/key.pem", "doctor"])
        .output()
        .unwrap();
    assert_not_echoed(&out, apiv3);
    assert_eq!(out.status.code(), Some(6));

    // The same flag with PEM text (BEGIN line included) loads the key.
    let pem = std::fs::read_to_string(vectors().join("keys/merchant_test_key.pem")).unwrap();
    let out = goldplan()
        .arg("--private-key")
        .arg(&pem)
        .arg("--config")
        .arg(&config)
        .args(["--json", "doctor"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let key = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "private_key")
        .unwrap();
    assert_eq!(key["status"], "ok", "{doc}");
    assert_not_echoed(&out, &body);
}

#[cfg(unix)]
#[test]
fn a_device_as_the_private_key_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_without_key(&dir);
    let out = goldplan()
        .args(["--json", "--private-key", "/dev/zero", "--config"])
        .arg(&config)
        .args([
            "gold-plan",
            "close-advertising-show",
            "--sub-mchid",
            "1900000109",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["error"]["kind"], "configuration");
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a regular file"),
        "{doc}"
    );
}

#[test]
fn notify_verify_bounds_its_input_files_and_never_echoes_a_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = notification_config(&dir);
    let body = dir.path().join("body.json");
    std::fs::write(&body, "{}").unwrap();
    let run = |headers: &PathBuf, body: &PathBuf| {
        goldplan()
            .args(["--json", "--config"])
            .arg(&config)
            .args(["notify", "verify", "--now", "1700000000", "--headers"])
            .arg(headers)
            .arg("--body")
            .arg(body)
            .output()
            .unwrap()
    };
    // A line without ':' is reported by number and length, never quoted.
    let headers = dir.path().join("headers.txt");
    let line = "Z".repeat(40_000);
    std::fs::write(&headers, format!("Wechatpay-Nonce: n\n{line}\n")).unwrap();
    let out = run(&headers, &body);
    assert_eq!(out.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("line 2") && message.contains("40000 bytes"),
        "{message}"
    );
    assert!(
        out.stdout.len() < 1024,
        "{} bytes printed",
        out.stdout.len()
    );

    // Oversized and non-regular files are refused before reading.
    std::fs::write(&headers, "X-Padding: ".to_owned() + &"p".repeat(100_000)).unwrap();
    let out = run(&headers, &body);
    assert_eq!(out.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("larger than"),
        "{doc}"
    );
    #[cfg(unix)]
    {
        let out = run(&PathBuf::from("/dev/zero"), &body);
        assert_eq!(out.status.code(), Some(2));
        std::fs::write(&headers, "Wechatpay-Nonce: n\n").unwrap();
        let out = run(&headers, &PathBuf::from("/dev/zero"));
        assert_eq!(out.status.code(), Some(2));
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            doc["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not a regular file"),
            "{doc}"
        );
    }
}

#[test]
fn a_json_headers_file_with_a_repeated_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = notification_config(&dir);
    let v: Value = serde_json::from_str(
        &std::fs::read_to_string(vectors().join("notification.json")).unwrap(),
    )
    .unwrap();
    let case = &v["cases"][0];
    let (_, body) = write_case(&dir, case);
    // The authentic headers, then a second Wechatpay-Nonce: serde_json's Map would keep the
    // last one silently.
    let mut members: Vec<String> = case["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| format!("{}:{}", Value::from(k.as_str()), v))
        .collect();
    members.push(r#""Wechatpay-Nonce":"other""#.to_owned());
    let headers = dir.path().join("headers.json");
    std::fs::write(&headers, format!("{{{}}}", members.join(","))).unwrap();
    let out = goldplan()
        .args(["--json", "--config"])
        .arg(&config)
        .args(["notify", "verify", "--now", "1700000000", "--headers"])
        .arg(&headers)
        .arg("--body")
        .arg(&body)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["error"]["kind"], "invalid_header", "{doc}");
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("more than once"),
        "{doc}"
    );
    assert_eq!(out.status.code(), Some(4));
}

#[test]
fn the_cli_takes_the_configuration_names_of_the_core() {
    let sb = start_sandbox("public_key");
    let run = |args: &[&str]| {
        // --mode belongs before the command (after `sandbox` it is the sandbox's own).
        let out = goldplan()
            .args(args)
            .arg("--json")
            .arg("--config")
            .arg(&sb.config)
            .args([
                "gold-plan",
                "change-gold-plan-status",
                "--sub-mchid",
                "1900000109",
                "--operation",
                "OPEN",
            ])
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (out.status.code(), doc)
    };
    let (code, doc) = run(&[
        "--mode",
        "public_key",
        "--timeout",
        "5",
        "--connect-timeout",
        "2",
        "--max-attempts",
        "1",
        "--max-skew-secs",
        "120",
        "--max-response-body",
        "65536",
    ]);
    assert_eq!(code, Some(0), "{doc}");
    // --mode overrides the file: a certificate client of a public-key-only merchant.
    let (code, doc) = run(&["--mode", "certificate"]);
    assert_eq!(code, Some(4), "{doc}");
    assert_eq!(doc["error"]["kind"], "no_platform_certificate");
    let (code, doc) = run(&["--mode", "sm2"]);
    assert_eq!(code, Some(2), "{doc}");
    assert_eq!(doc["error"]["family"], "configuration");
    let (code, doc) = run(&["--max-skew-secs", "0"]);
    assert_eq!(code, Some(2), "{doc}");
    let (code, doc) = run(&["--proxy", "not a url"]);
    assert_eq!(code, Some(2), "{doc}");
    // A response larger than the cap is a transport error naming the limit.
    let (code, doc) = run(&["--max-response-body", "8", "--max-attempts", "1"]);
    assert_eq!(code, Some(5), "{doc}");
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("max_response_body"),
        "{doc}"
    );
}

#[test]
fn receipt_test_without_chromium_is_a_configuration_error_that_says_how_to_install_it() {
    let out = goldplan()
        .args([
            "--json",
            "receipt",
            "test",
            "http://127.0.0.1:9/receipt",
            "--chromium",
            "/nonexistent/chromium",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["error"]["kind"], "configuration");
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(message.contains("apt-get install chromium"), "{message}");
    // A value given to the wrong option is described, not echoed.
    let out = goldplan()
        .args([
            "receipt",
            "test",
            "http://127.0.0.1:9/receipt",
            "--out-trade-no",
            "0123456789abcdefghijklmnopqrstuv key",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("out_trade_no (36 characters)"), "{stderr}");
    assert!(!stderr.contains("0123456789abcdef"), "{stderr}");
}

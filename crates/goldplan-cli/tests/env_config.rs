//! The `goldplan` binary configured through `GOLDPLAN_*` environment variables (and their
//! precedence over the config file, and of flags over them), and exit code 1.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use goldplan::credentials::PrivateKey;
use goldplan::sign::sign_base64;
use goldplan::verify::message_to_verify;
use serde_json::{Value, json};

const VARIABLES: [&str; 11] = [
    "GOLDPLAN_CONFIG",
    "GOLDPLAN_BASE_URL",
    "GOLDPLAN_MCHID",
    "GOLDPLAN_SERIAL_NO",
    "GOLDPLAN_PRIVATE_KEY",
    "GOLDPLAN_MERCHANT_CERT",
    "GOLDPLAN_APIV3_KEY",
    "GOLDPLAN_PUBLIC_KEY_ID",
    "GOLDPLAN_PUBLIC_KEY",
    "GOLDPLAN_TIMEOUT_SECS",
    "GOLDPLAN_LOG",
];

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

fn vector(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(vectors().join(name)).unwrap()).unwrap()
}

/// The binary with none of the developer's `GOLDPLAN_*` variables.
fn goldplan() -> Command {
    let mut cmd = Command::cargo_bin("goldplan").unwrap();
    for var in VARIABLES {
        cmd.env_remove(var);
    }
    cmd
}

struct Run {
    code: Option<i32>,
    doc: Value,
    stderr: String,
}

fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code(),
        doc: serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The merchant of the callback vectors (public-key mode) as `GOLDPLAN_*` variables.
fn merchant_env(dir: &Path) -> Vec<(&'static str, String)> {
    let v = vector("notification.json");
    let public_key = dir.join("wechatpay_pub_key.pem");
    std::fs::write(&public_key, v["public_key_pem"].as_str().unwrap()).unwrap();
    vec![
        ("GOLDPLAN_MCHID", "1900000100".into()),
        (
            "GOLDPLAN_SERIAL_NO",
            "3775B6A45ACD588826D15E583A95F5DD12345678".into(),
        ),
        (
            "GOLDPLAN_PRIVATE_KEY",
            vectors()
                .join("keys/merchant_test_key.pem")
                .to_string_lossy()
                .into_owned(),
        ),
        (
            "GOLDPLAN_APIV3_KEY",
            v["apiv3_key"].as_str().unwrap().into(),
        ),
        (
            "GOLDPLAN_PUBLIC_KEY_ID",
            v["public_key_id"].as_str().unwrap().into(),
        ),
        (
            "GOLDPLAN_PUBLIC_KEY",
            public_key.to_string_lossy().into_owned(),
        ),
        ("GOLDPLAN_BASE_URL", "http://127.0.0.1:9".into()),
    ]
}

/// The spec's callback N1, written as a headers file and a body file.
fn n1_files(dir: &Path) -> (PathBuf, PathBuf, i64) {
    let v = vector("notification.json");
    let case = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "N1")
        .unwrap();
    let headers = dir.join("headers.json");
    let body = dir.join("body.json");
    std::fs::write(&headers, case["headers"].to_string()).unwrap();
    std::fs::write(&body, case["body"].as_str().unwrap()).unwrap();
    (headers, body, case["now"].as_i64().unwrap())
}

fn notify_verify(cmd: &mut Command, headers: &Path, body: &Path, now: i64) -> Run {
    run(cmd
        .args(["--json", "notify", "verify", "--headers"])
        .arg(headers)
        .arg("--body")
        .arg(body)
        .args(["--now", &now.to_string()]))
}

#[test]
fn the_whole_configuration_can_come_from_goldplan_variables() {
    let dir = tempfile::tempdir().unwrap();
    let (headers, body, now) = n1_files(dir.path());
    let r = notify_verify(
        goldplan().envs(merchant_env(dir.path())),
        &headers,
        &body,
        now,
    );
    assert_eq!(r.code, Some(0), "{} {}", r.stderr, r.doc);
    assert_eq!(r.doc["id"], "EV-2024010100000000000001");
    assert_eq!(r.doc["resource"]["out_trade_no"], "ORDER20240101");

    // Each required variable is named when it is missing.
    for (missing, hint) in [
        ("GOLDPLAN_MCHID", "GOLDPLAN_MCHID"),
        ("GOLDPLAN_SERIAL_NO", "GOLDPLAN_SERIAL_NO"),
        ("GOLDPLAN_PRIVATE_KEY", "GOLDPLAN_PRIVATE_KEY"),
        ("GOLDPLAN_PUBLIC_KEY", "GOLDPLAN_PUBLIC_KEY"),
    ] {
        let env: Vec<_> = merchant_env(dir.path())
            .into_iter()
            .filter(|(k, _)| *k != missing)
            .collect();
        let r = notify_verify(goldplan().envs(env), &headers, &body, now);
        assert_eq!(r.code, Some(2), "without {missing}: {}", r.doc);
        assert_eq!(r.doc["error"]["kind"], "configuration");
        assert!(
            r.doc["error"]["message"].as_str().unwrap().contains(hint),
            "without {missing}: {}",
            r.doc
        );
    }
}

#[test]
fn variables_override_the_config_file_and_flags_override_variables() {
    let dir = tempfile::tempdir().unwrap();
    let (headers, body, now) = n1_files(dir.path());
    let v = vector("notification.json");
    let right_key = v["apiv3_key"].as_str().unwrap().to_owned();
    let wrong_key = "W".repeat(32);
    let config = dir.path().join("config.json");
    let with_key = |key: &str| {
        json!({
            "mchid": "1900000100",
            "serial_no": "3775B6A45ACD588826D15E583A95F5DD12345678",
            "private_key_path": vectors().join("keys/merchant_test_key.pem"),
            "apiv3_key": key,
            "public_key_id": v["public_key_id"],
            "public_key_pem": v["public_key_pem"],
            "base_url": "http://127.0.0.1:9",
        })
        .to_string()
    };

    // The file alone decides: the wrong APIv3 key cannot decrypt the resource (exit 4).
    std::fs::write(&config, with_key(&wrong_key)).unwrap();
    let r = notify_verify(
        goldplan().env("GOLDPLAN_CONFIG", &config),
        &headers,
        &body,
        now,
    );
    assert_eq!(r.code, Some(4), "{}", r.doc);
    assert_eq!(r.doc["error"]["kind"], "decryption");
    // GOLDPLAN_APIV3_KEY wins over the file.
    let r = notify_verify(
        goldplan()
            .env("GOLDPLAN_CONFIG", &config)
            .env("GOLDPLAN_APIV3_KEY", &right_key),
        &headers,
        &body,
        now,
    );
    assert_eq!(r.code, Some(0), "{} {}", r.stderr, r.doc);

    // The flag wins over the variable, both ways.
    std::fs::write(&config, with_key(&right_key)).unwrap();
    let r = notify_verify(
        goldplan()
            .env("GOLDPLAN_CONFIG", &config)
            .env("GOLDPLAN_APIV3_KEY", &wrong_key)
            .args(["--apiv3-key", &right_key]),
        &headers,
        &body,
        now,
    );
    assert_eq!(r.code, Some(0), "{} {}", r.stderr, r.doc);
    let r = notify_verify(
        goldplan()
            .env("GOLDPLAN_CONFIG", &config)
            .env("GOLDPLAN_APIV3_KEY", &right_key)
            .args(["--apiv3-key", &wrong_key]),
        &headers,
        &body,
        now,
    );
    assert_eq!(r.code, Some(4), "{}", r.doc);

    // GOLDPLAN_BASE_URL wins over the file's base_url: a refused plain-http host (exit 2)...
    let r = run(goldplan()
        .env("GOLDPLAN_CONFIG", &config)
        .env("GOLDPLAN_BASE_URL", "http://api.mch.weixin.qq.com")
        .args([
            "--json",
            "gold-plan",
            "close-advertising-show",
            "--sub-mchid",
            "1900000109",
        ]));
    assert_eq!(r.code, Some(2), "{}", r.doc);
    assert!(
        r.doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("loopback"),
        "{}",
        r.doc
    );
    // ...and a loopback port where nothing listens (exit 5, the port is the variable's).
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let r = run(goldplan()
        .env("GOLDPLAN_CONFIG", &config)
        .env("GOLDPLAN_BASE_URL", format!("http://{closed}"))
        .args([
            "--json",
            "gold-plan",
            "close-advertising-show",
            "--sub-mchid",
            "1900000109",
        ]));
    assert_eq!(r.code, Some(5), "{}", r.doc);
    assert_eq!(r.doc["error"]["kind"], "transport");
    assert!(
        r.doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&closed.port().to_string()),
        "{}",
        r.doc
    );
}

#[test]
fn goldplan_timeout_secs_bounds_a_silent_gateway() {
    // Accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for sock in silent.incoming() {
            held.push(sock);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let mut env = merchant_env(dir.path());
    env.retain(|(k, _)| *k != "GOLDPLAN_BASE_URL");
    env.push(("GOLDPLAN_BASE_URL", format!("http://{addr}")));
    env.push(("GOLDPLAN_TIMEOUT_SECS", "1".into()));
    let r = run(goldplan().envs(env).args([
        "--json",
        "gold-plan",
        "close-advertising-show",
        "--sub-mchid",
        "1900000109",
    ]));
    assert_eq!(r.code, Some(5), "{}", r.doc);
    assert_eq!(r.doc["error"]["kind"], "timeout");
}

/// `goldplan sandbox` as a process; its `sandbox.json`.
struct SandboxProcess {
    child: std::process::Child,
    info: Value,
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
    let info =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("sandbox.json")).unwrap())
            .unwrap();
    SandboxProcess {
        child,
        info,
        _dir: dir,
    }
}

#[test]
fn a_gold_plan_call_configured_only_by_variables() {
    let sb = start_sandbox("combined");
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("apiclient_key.pem");
    let public_key = dir.path().join("pub_key.pem");
    let cert = dir.path().join("apiclient_cert.pem");
    std::fs::write(&key, sb.info["private_key_pem"].as_str().unwrap()).unwrap();
    std::fs::write(&public_key, sb.info["public_key_pem"].as_str().unwrap()).unwrap();
    std::fs::write(&cert, sb.info["certificate_pem"].as_str().unwrap()).unwrap();
    let s = |k: &str| sb.info[k].as_str().unwrap().to_owned();
    let sub = sb.info["sub_mchids"][0].as_str().unwrap().to_owned();
    let env = [
        ("GOLDPLAN_BASE_URL", s("base_url")),
        ("GOLDPLAN_MCHID", s("mchid")),
        ("GOLDPLAN_SERIAL_NO", s("serial_no")),
        ("GOLDPLAN_PRIVATE_KEY", key.to_string_lossy().into_owned()),
        (
            "GOLDPLAN_MERCHANT_CERT",
            cert.to_string_lossy().into_owned(),
        ),
        ("GOLDPLAN_APIV3_KEY", s("apiv3_key")),
        ("GOLDPLAN_PUBLIC_KEY_ID", s("public_key_id")),
        (
            "GOLDPLAN_PUBLIC_KEY",
            public_key.to_string_lossy().into_owned(),
        ),
    ];
    let r = run(goldplan().envs(env.clone()).args([
        "--json",
        "gold-plan",
        "change-gold-plan-status",
        "--sub-mchid",
        &sub,
        "--operation",
        "OPEN",
    ]));
    assert_eq!(r.code, Some(0), "{} {}", r.stderr, r.doc);
    assert_eq!(r.doc["data"]["sub_mchid"], sub.as_str());
    // Signed with the variables' public key: the response names its id.
    let r = run(goldplan().envs(env.clone()).args([
        "--json",
        "request",
        "POST",
        "/v3/goldplan/merchants/changegoldplanstatus",
        &json!({"sub_mchid": sub, "operation_type": "OPEN"}).to_string(),
    ]));
    assert_eq!(r.code, Some(0), "{} {}", r.stderr, r.doc);
    assert_eq!(r.doc["serial"], s("public_key_id").as_str());
    // A merchant certificate that does not match the serial is refused (exit 2).
    let platform = vectors().join("keys/platform_test_cert.pem");
    let mut mismatched: Vec<(&str, String)> = env.to_vec();
    mismatched.retain(|(k, _)| *k != "GOLDPLAN_MERCHANT_CERT");
    mismatched.push((
        "GOLDPLAN_MERCHANT_CERT",
        platform.to_string_lossy().into_owned(),
    ));
    let r = run(goldplan().envs(mismatched).args([
        "--json",
        "gold-plan",
        "close-advertising-show",
        "--sub-mchid",
        &sub,
    ]));
    assert_eq!(r.code, Some(2), "{}", r.doc);
    assert_eq!(r.doc["error"]["kind"], "configuration");
}

#[test]
fn a_failure_outside_the_documented_families_exits_1() {
    // An authentic callback (valid signature, fresh timestamp) whose body is not a
    // notification: the data cannot be decoded, which is none of exit codes 2 to 6.
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::from_pem(
        &std::fs::read_to_string(vectors().join("keys/wechatpay_test_pubkey_key.pem")).unwrap(),
    )
    .unwrap();
    let public_key = dir.path().join("pub_key.pem");
    std::fs::copy(
        vectors().join("keys/wechatpay_test_pubkey.pem"),
        &public_key,
    )
    .unwrap();
    let (ts, nonce, body) = ("1780272000", "n0nce", br#"{"hello":"world"}"#);
    let headers = json!({
        "Wechatpay-Timestamp": ts,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Serial": "PUB_KEY_ID_0114232134912410000000000000000001",
        "Wechatpay-Signature": sign_base64(&key, &message_to_verify(ts, nonce, body)).unwrap(),
    });
    let headers_file = dir.path().join("headers.json");
    let body_file = dir.path().join("body.json");
    std::fs::write(&headers_file, headers.to_string()).unwrap();
    std::fs::write(&body_file, body).unwrap();
    let mut env = merchant_env(dir.path());
    env.retain(|(k, _)| !matches!(*k, "GOLDPLAN_PUBLIC_KEY" | "GOLDPLAN_PUBLIC_KEY_ID"));
    env.push((
        "GOLDPLAN_PUBLIC_KEY_ID",
        "PUB_KEY_ID_0114232134912410000000000000000001".into(),
    ));
    env.push((
        "GOLDPLAN_PUBLIC_KEY",
        public_key.to_string_lossy().into_owned(),
    ));

    let r = notify_verify(
        goldplan().envs(env.clone()),
        &headers_file,
        &body_file,
        1_780_272_000,
    );
    assert_eq!(r.code, Some(1), "{} {}", r.stderr, r.doc);
    assert_eq!(r.doc["ok"], false);
    assert_eq!(r.doc["error"]["kind"], "decode");
    // The same in human mode: exit 1 and the reason on stderr.
    let out = goldplan()
        .envs(env)
        .args(["notify", "verify", "--headers"])
        .arg(&headers_file)
        .arg("--body")
        .arg(&body_file)
        .args(["--now", "1780272000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: malformed data"), "{stderr}");
}

//! Regression tests of issue 11 (adversarial review): each reproduces one attack or mistake
//! and asserts the typed outcome, with memory bounded by construction (caps, not timing).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use common::{NOW, PUBKEY_ID, Signed, frozen, key, parser, pubkey_verifier};
use goldplan::clock::ManualClock;
use goldplan::config::ClientConfig;
use goldplan::credentials::{KeySource, PrivateKey};
use goldplan::http::{HttpRequest, ReqwestTransport, Transport, TransportConfig};
use goldplan::notification::NotificationParser;
use goldplan::verify::{MaxSkew, PublicKeyVerifier, VerificationPolicy, verify_signed};
use goldplan::{ApiError, Error, ErrorKind};

/// The public half of `tests/vectors/keys/rsa1024_test_key.pem` (a test key).
const RSA1024_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDyOPxXs1qya0feQOAcnUV9jab+
lHLkd5fx2WIW1cITIEEF8NcYE4ZSJy+Jt1zEMgDtsq8DnWCOHS+1mWEephpEVK4C
djDldYZKK6kZLdQv6krP4/FXScZDUrDjjvcvhPQodzuffQWBI7KAgTyTveK89LWU
M9Wi/M785umBDh+C1wIDAQAB
-----END PUBLIC KEY-----
";

fn wechat_key() -> PrivateKey {
    key("wechatpay_test_pubkey_key.pem")
}

/// The base64 body of the merchant test key, without its BEGIN/END lines: what users put in an
/// environment variable.
fn key_body() -> String {
    common::read("keys/merchant_test_key.pem")
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat()
}

fn assert_not_echoed(message: &str, secret: &str) {
    // Any 16-character window of the secret would be a leak.
    let bytes = secret.as_bytes();
    for window in bytes.windows(16).step_by(8) {
        let window = std::str::from_utf8(window).unwrap();
        assert!(
            !message.contains(window),
            "the message echoes the secret: {message}"
        );
    }
}

// ---- item 3: control characters in Wechatpay-* header values -------------------------------

#[test]
fn a_line_break_in_the_nonce_cannot_resplit_a_signed_response() {
    // WeChat Pay (or whoever holds the key) signed nonce `N` over body `B1\nB2`.
    let authentic = Signed::new(&wechat_key(), PUBKEY_ID, &NOW.to_string(), "N", b"B1\nB2");
    let headers = authentic.wechatpay_headers().unwrap();
    verify_signed(&pubkey_verifier(), &frozen(NOW), &headers, b"B1\nB2").unwrap();

    // The same signature over the re-split pair: nonce `N\nB1`, body `B2`.
    let resplit = authentic.with_header("Wechatpay-Nonce", "N\nB1");
    let e = resplit.wechatpay_headers().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidHeader, "{e}");
    assert!(e.to_string().contains("wechatpay-nonce"), "{e}");
}

#[test]
fn a_callback_envelope_that_is_the_tail_of_an_authentic_body_is_refused() {
    let envelope = common::Resource::standard().callback_body();
    let mut body = b"prefix-chosen-by-the-signer\n".to_vec();
    body.extend_from_slice(&envelope);
    let authentic = Signed::new(&wechat_key(), PUBKEY_ID, &NOW.to_string(), "N", &body);
    let forged = authentic
        .with_header("Wechatpay-Nonce", "N\nprefix-chosen-by-the-signer")
        .with_body(envelope);
    let e = parser()
        .parse(
            forged.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            &forged.body,
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidHeader, "{e}");
}

#[test]
fn control_characters_in_any_signed_header_are_invalid_headers() {
    let signed = common::signed_callback(b"{}");
    for name in [
        "Wechatpay-Timestamp",
        "Wechatpay-Nonce",
        "Wechatpay-Signature",
        "Wechatpay-Serial",
        "Wechatpay-Signature-Type",
    ] {
        let value = signed.header(name).to_owned();
        for bad in ["\r", "\n", "\u{1b}[2J", "\0", "\u{7f}", " x", "\u{85}", "é"] {
            let tampered =
                signed.with_header(name, &format!("{}{bad}{}", &value[..1], &value[1..]));
            let e = tampered.wechatpay_headers().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidHeader, "{name} {bad:?}: {e}");
            // The message names the header, never quotes the value.
            assert!(!e.to_string().contains(&value[1..]), "{e}");
        }
    }
    // Surrounding spaces and tabs are optional whitespace, not part of the value.
    let padded = signed.with_header("Wechatpay-Nonce", &format!(" \t{}\t ", common::NONCE));
    assert_eq!(
        padded.wechatpay_headers().unwrap().nonce.as_deref(),
        Some(common::NONCE)
    );
}

// ---- item 4: one validated clock-skew window ------------------------------------------------

#[test]
fn the_skew_window_cannot_be_switched_off() {
    for bad in [0, -1, -300, 86_401, i64::MAX, i64::MIN] {
        let e = MaxSkew::from_secs(bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Configuration, "{bad}");
        assert!(e.to_string().contains("between 1 and 86400"), "{e}");
    }
    assert_eq!(MaxSkew::from_secs(1).unwrap().secs(), 1);
    assert_eq!(MaxSkew::from_secs(86_400).unwrap().secs(), 86_400);
    assert_eq!(MaxSkew::default().secs(), 300);

    // The widest window still refuses a 1970 timestamp (the attack: max_skew_secs = 2**63-1).
    let old = Signed::new(&wechat_key(), PUBKEY_ID, "1", common::NONCE, b"{}");
    let widest = VerificationPolicy::new(
        MaxSkew::from_secs(MaxSkew::MAX_SECS).unwrap(),
        Arc::new(ManualClock::new(NOW)),
    );
    let e = verify_signed(
        &pubkey_verifier(),
        &widest,
        &old.wechatpay_headers().unwrap(),
        &old.body,
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ClockSkew);
    let e = NotificationParser::new(Arc::new(pubkey_verifier()), common::apiv3_key())
        .with_policy(widest)
        .parse(
            old.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            &old.body,
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ClockSkew);
}

#[test]
fn the_client_takes_the_same_window() {
    for (skew, ok) in [
        (0, false),
        (-5, false),
        (86_401, false),
        (1, true),
        (86_400, true),
    ] {
        let json = serde_json::json!({
            "mchid": "1900000100",
            "serial_no": common::MERCHANT_SERIAL,
            "private_key_pem": common::read("keys/merchant_test_key.pem"),
            "public_key_id": PUBKEY_ID,
            "public_key_pem": common::read("keys/wechatpay_test_pubkey.pem"),
            "max_skew_secs": skew,
        });
        let built = ClientConfig::from_json(&json.to_string(), None).and_then(|c| c.build());
        match built {
            Ok(_) => assert!(ok, "{skew}"),
            Err(e) => {
                assert!(!ok, "{skew}: {e}");
                assert_eq!(e.kind(), ErrorKind::Configuration);
            }
        }
    }
}

// ---- item 5: unauthenticated data in messages ------------------------------------------------

#[test]
fn serial_and_request_id_in_messages_are_escaped_and_bounded() {
    let signed = common::signed_callback(b"{}")
        .with_header(
            "Request-ID",
            "r1\r\n2026-06-01 INFO payment accepted\u{1b}[0m",
        )
        .with_header("Wechatpay-Signature", "AAAA");
    let e = verify_signed(
        &pubkey_verifier(),
        &frozen(NOW),
        &signed.wechatpay_headers().unwrap(),
        &signed.body,
    )
    .unwrap_err();
    let shown = e.to_string();
    assert!(!shown.chars().any(char::is_control), "{shown:?}");
    assert!(shown.contains("r1\\u{d}\\u{a}2026-06-01"), "{shown}");
    // The data holds it escaped too: users log `request_id` (issue 19, item 9).
    if let Error::Verification(v) = &e {
        let kept = v.request_id.as_deref().unwrap();
        assert!(!kept.chars().any(char::is_control), "{kept:?}");
        assert!(kept.starts_with("r1\\u{d}\\u{a}2026-06-01"), "{kept}");
    } else {
        panic!("{e:?}");
    }

    let long = "7".repeat(1500);
    let signed = common::signed_callback(b"{}")
        .with_header("Request-ID", &long)
        .with_header("Wechatpay-Signature", "AAAA");
    let e = verify_signed(
        &pubkey_verifier(),
        &frozen(NOW),
        &signed.wechatpay_headers().unwrap(),
        &signed.body,
    )
    .unwrap_err();
    assert!(e.to_string().len() < 600, "{}", e.to_string().len());
}

#[test]
fn api_error_messages_escape_and_bound_the_unsigned_body() {
    let detail = "x".repeat(10 * 1024 * 1024);
    let body = serde_json::json!({
        "code": "PARAM_ERROR\r\nFORGED",
        "message": "bad\u{1b}[31m red \u{202e}txt.exe",
        "detail": {"field": "/sub_mchid", "issue": detail},
    })
    .to_string();
    let api = ApiError::from_response(400, Some("id\nX".into()), body.as_bytes());
    let shown = Error::from(api.clone()).to_string();
    assert!(shown.len() < 4096, "{} bytes shown", shown.len());
    assert!(
        !shown.chars().any(|c| c.is_control() || c == '\u{202e}'),
        "{shown:?}"
    );
    assert!(shown.contains("PARAM_ERROR\\u{d}\\u{a}FORGED"), "{shown}");
    assert!(shown.contains("[Request-ID id\\u{a}X]"), "{shown}");
    // The whole detail stays available as data.
    assert_eq!(
        api.detail_field("issue")
            .and_then(|v| v.as_str())
            .map(str::len),
        Some(detail.len())
    );
}

// ---- items 1 and 6: key sources, secrets in errors, bounded files --------------------------

#[test]
fn key_content_given_where_a_path_is_expected_is_never_echoed() {
    let body = key_body();
    let source = KeySource::from_pem_or_path(body.clone());
    assert!(source.is_path());
    assert!(!format!("{source:?}").contains(&body[..16]));
    for e in [
        PrivateKey::from_source(&source).unwrap_err(),
        PrivateKey::from_pem_file(&body).unwrap_err(),
        ClientConfig {
            mchid: Some("1900000100".into()),
            serial_no: Some(common::MERCHANT_SERIAL.into()),
            private_key: Some(KeySource::Path(PathBuf::from(&body))),
            ..ClientConfig::default()
        }
        .private_key()
        .unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::Configuration);
        let shown = e.to_string();
        assert_not_echoed(&shown, &body);
        assert!(shown.contains("private key path"), "{shown}");
        assert!(
            shown.contains(&format!("{} characters", body.len())),
            "{shown}"
        );
        assert!(shown.contains("looks like key content"), "{shown}");
    }
    // With its BEGIN line the same value is PEM text and loads.
    let pem = common::read("keys/merchant_test_key.pem");
    let source = KeySource::from_pem_or_path(pem.clone());
    assert!(!source.is_path());
    assert_eq!(PrivateKey::from_source(&source).unwrap().bits(), 2048);
    assert!(!format!("{source:?}").contains("BEGIN"));
}

#[test]
fn credentials_in_the_base_url_and_the_proxy_are_refused_or_withheld() {
    let password = "s3cretPassw0rd-do-not-print";
    let e = goldplan::http::validate_base_url(&format!("https://merchant:{password}@api.example"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Configuration);
    assert!(e.to_string().contains("credentials"), "{e}");
    assert_not_echoed(&e.to_string(), password);
    let e = goldplan::http::validate_base_url(&format!("https://user:{password}@/bad path"))
        .unwrap_err();
    assert_not_echoed(&e.to_string(), password);

    let e = ReqwestTransport::new(&TransportConfig {
        proxy: Some(format!("http://user:{password}@proxy:99999")),
        ..TransportConfig::default()
    })
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Configuration);
    assert_not_echoed(&e.to_string(), password);
    // A key pasted as the proxy: refused when the client is built, not at the first call.
    for pasted in [
        "0123456789abcdefghijklmnopqrstuv",
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
    ] {
        let e = ReqwestTransport::new(&TransportConfig {
            proxy: Some(pasted.into()),
            ..TransportConfig::default()
        })
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Configuration);
        assert_not_echoed(&e.to_string(), pasted);
    }
    assert!(
        ReqwestTransport::new(&TransportConfig {
            proxy: Some("socks5h://127.0.0.1:1080".into()),
            ..TransportConfig::default()
        })
        .is_ok()
    );
}

#[cfg(unix)]
#[test]
fn a_device_as_a_key_or_config_path_is_refused_before_reading() {
    // /dev/zero never ends: an unbounded read grows until the OOM killer stops it.
    for e in [
        PrivateKey::from_pem_file("/dev/zero").unwrap_err(),
        ClientConfig::from_file("/dev/zero").unwrap_err(),
        KeySource::Path("/dev/zero".into())
            .load("WeChat Pay public key")
            .unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::Configuration);
        assert!(e.to_string().contains("not a regular file"), "{e}");
    }
}

#[test]
fn an_oversized_key_file_is_refused_by_its_size() {
    let dir = std::env::temp_dir().join(format!("goldplan-hardening-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("huge.pem");
    let mut text = common::read("keys/merchant_test_key.pem");
    text.push_str(&"#".repeat(goldplan::files::MAX_PEM_FILE as usize));
    std::fs::write(&big, text).unwrap();
    let e = PrivateKey::from_pem_file(&big).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Configuration);
    assert!(
        e.to_string().contains("larger than the 262144-byte limit"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- nit: a WeChat Pay public key under 2048 bits ------------------------------------------

#[test]
fn a_1024_bit_wechat_public_key_is_refused_at_load() {
    let e = PublicKeyVerifier::from_pem(PUBKEY_ID, RSA1024_PUBLIC_KEY).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Configuration);
    assert!(e.to_string().contains("under 2048 bits"), "{e}");
}

// ---- item 2: response bodies are capped ----------------------------------------------------

/// A hostile gateway on loopback: answers the first request with `head`, then `body_chunks`
/// chunks of 16 KiB (chunked encoding) until the client hangs up or `limit` bytes were sent.
/// Returns its address and a handle yielding how many body bytes it managed to send.
fn hostile_server(
    head: &'static str,
    chunked: bool,
    limit: usize,
) -> (String, std::thread::JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        // Safety nets only: the client is expected to hang up long before.
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        stream
            .set_write_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 2 {
            line.clear();
        }
        let mut stream = stream;
        if stream.write_all(head.as_bytes()).is_err() {
            return 0;
        }
        let chunk = [b'a'; 16 * 1024];
        let mut sent = 0;
        if chunked {
            while sent < limit {
                let framed = stream
                    .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                    .and_then(|()| stream.write_all(&chunk))
                    .and_then(|()| stream.write_all(b"\r\n"));
                if framed.is_err() {
                    return sent;
                }
                sent += chunk.len();
            }
            let _ = stream.write_all(b"0\r\n\r\n");
        }
        // Hold the connection until the client hangs up.
        let mut rest = [0u8; 64];
        let _ = reader.get_mut().read(&mut rest);
        sent
    });
    (format!("http://{addr}"), handle)
}

fn request(base: &str) -> HttpRequest {
    HttpRequest {
        method: "GET".into(),
        url: format!("{base}/v3/certificates"),
        headers: vec![],
        body: vec![],
    }
}

/// Waits for the server thread without blocking the runtime, whose tasks close the client's
/// connection.
async fn join(server: std::thread::JoinHandle<usize>) -> usize {
    tokio::task::spawn_blocking(move || server.join().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_chunked_body_stops_at_the_cap() {
    const LIMIT: usize = 64 * 1024 * 1024;
    let (base, server) = hostile_server(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        true,
        LIMIT,
    );
    let transport = ReqwestTransport::new(&TransportConfig {
        max_response_body: 256 * 1024,
        timeout: Duration::from_secs(60),
        ..TransportConfig::default()
    })
    .unwrap();
    let e = transport.send(request(&base)).await.unwrap_err();
    drop(transport);
    assert_eq!(e.kind(), ErrorKind::Transport, "{e}");
    assert!(e.to_string().contains("262144-byte limit"), "{e}");
    assert!(!e.is_retryable());
    // The client hung up long before the server's 64 MiB: only the cap plus what the socket
    // buffers hold was ever sent.
    let sent = join(server).await;
    assert!(sent < LIMIT, "the client read all {sent} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_content_length_is_refused_before_reading() {
    let (base, server) = hostile_server(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2147483648\r\n\r\n",
        false,
        0,
    );
    let transport = ReqwestTransport::new(&TransportConfig {
        max_response_body: 1024 * 1024,
        // Without the check the client would wait for the 2 GB body until this timeout.
        timeout: Duration::from_secs(20),
        ..TransportConfig::default()
    })
    .unwrap();
    let e = transport.send(request(&base)).await.unwrap_err();
    drop(transport);
    assert_eq!(e.kind(), ErrorKind::Transport, "{e}");
    assert!(
        e.to_string()
            .contains("declares a 2147483648-byte body, over the 1048576-byte limit"),
        "{e}"
    );
    join(server).await;
}

#[test]
fn the_client_builder_sets_the_cap() {
    let e = goldplan::Client::builder()
        .credentials(
            goldplan::credentials::MerchantCredentials::new(
                "1900000100",
                common::MERCHANT_SERIAL,
                key("merchant_test_key.pem"),
            )
            .unwrap(),
        )
        .wechatpay_public_key(pubkey_verifier())
        .max_response_body(0)
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Configuration);
}

/// Found by the `pem_keys` fuzz target: a block whose `BEGIN` line carries the key's base64
/// (a mangled paste) was named in the "wrong label" message of all three PEM parsers.
#[test]
fn an_unknown_pem_label_is_described_not_quoted() {
    let secret = key_body();
    let label = &secret[..48];
    let block = format!("-----BEGIN {label}-----\nAAAA\n-----END {label}-----\n");
    let messages = [
        PrivateKey::from_pem(&block).unwrap_err().to_string(),
        PublicKeyVerifier::from_pem(PUBKEY_ID, &block)
            .unwrap_err()
            .to_string(),
        goldplan::x509::Certificate::from_pem(&block)
            .unwrap_err()
            .to_string(),
    ];
    for message in &messages {
        assert_not_echoed(message, label);
        assert!(
            message.contains("a label that is not a standard one (a value of 48 characters"),
            "{message}"
        );
    }
    // A standard label is still named: it tells the user which file they passed.
    let certificate = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    let err = PrivateKey::from_pem(certificate).unwrap_err().to_string();
    assert!(err.contains("found `CERTIFICATE`"), "{err}");
}

//! The sandbox's media-upload multipart parser (`media::boundary` / `media::read_parts`).
//! They are private: the only public way in is the gateway itself, `POST
//! /v3/merchant/media/upload` on a running `Sandbox` (loopback). Multipart is parsed BEFORE the
//! signature is checked (the signature covers the `meta` part), so anyone who knows the merchant
//! id and serial reaches this parser: it is attacker-facing.
//!
//! One sandbox is started per process; each input is sent as one request with a well-formed
//! `Authorization` (fresh nonce, current time). When `sign` is set the harness signs the first
//! `meta` part it wrote, so well-formed bodies get past the signature and the fuzzer explores
//! the checks after it.
//! Invariants: every request gets an answer (a panic in the handler would drop the connection)
//! and it is never a 5xx; a 200 only comes for a meta the harness signed, and the media it
//! records has the SHA-256 the meta claims, which is the SHA-256 of a file part that was sent.
#![no_main]

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use arbitrary::Arbitrary;

use goldplan::clock::{Clock, SystemClock};
use goldplan::credentials::PrivateKey;
use goldplan::sign::{Authorization, message_to_sign, sign_base64};
use goldplan_sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use libfuzzer_sys::fuzz_target;

struct Fixture {
    runtime: tokio::runtime::Runtime,
    sandbox: SandboxHandle,
    http: reqwest::Client,
    url: String,
    mchid: String,
    serial_no: String,
    key: PrivateKey,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sandbox = runtime
        .block_on(Sandbox::start(SandboxConfig::default()))
        .unwrap();
    let info = sandbox.info().unwrap();
    Fixture {
        http: reqwest::Client::builder().no_proxy().build().unwrap(),
        url: format!("{}{}", info.base_url, goldplan::media::MEDIA_UPLOAD_PATH),
        mchid: info.mchid,
        serial_no: info.serial_no,
        key: PrivateKey::from_pem(&info.private_key_pem).unwrap(),
        runtime,
        sandbox,
    }
});

static NONCE: AtomicU64 = AtomicU64::new(0);

#[derive(Arbitrary, Debug)]
struct Part {
    /// 0 = meta, 1 = file, otherwise `other_name`.
    name: u8,
    other_name: String,
    filename: Option<String>,
    headers: Vec<(String, String)>,
    data: Vec<u8>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    boundary: String,
    /// `Content-Type` as sent: `None` gives `multipart/form-data; boundary=<boundary>`.
    content_type: Option<String>,
    preamble: Vec<u8>,
    parts: Vec<Part>,
    /// Leaves out the closing `--boundary--` (a truncated upload).
    unterminated: bool,
    epilogue: Vec<u8>,
    sign: bool,
}

// Byte 0 even: the rest is `Content-Type` line + raw body (seeded with real uploads), sent
// unsigned. Odd: the rest is a structured `Input`.
fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let (ct, body) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &[][..]),
        };
        let ct = String::from_utf8_lossy(ct).into_owned();
        send(ct, body.to_vec(), None, &[], false);
        return;
    }
    let Ok(input) = Input::arbitrary_take_rest(arbitrary::Unstructured::new(rest)) else {
        return;
    };
    structured(input);
});

fn structured(input: Input) {
    let b = &input.boundary;
    let mut body = input.preamble.clone();
    let mut meta: Option<Vec<u8>> = None;
    let mut files: Vec<Vec<u8>> = Vec::new();
    for p in &input.parts {
        let name = match p.name {
            0 => "meta",
            1 => "file",
            _ => p.other_name.as_str(),
        };
        body.extend_from_slice(
            format!("--{b}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes(),
        );
        if let Some(filename) = &p.filename {
            body.extend_from_slice(format!("; filename=\"{filename}\"").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        for (k, v) in &p.headers {
            body.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(&p.data);
        body.extend_from_slice(b"\r\n");
        match p.name {
            0 if meta.is_none() => meta = Some(p.data.clone()),
            1 => files.push(p.data.clone()),
            _ => {}
        }
    }
    if !input.unterminated {
        body.extend_from_slice(format!("--{b}--\r\n").as_bytes());
    }
    body.extend_from_slice(&input.epilogue);

    let content_type = input
        .content_type
        .clone()
        .unwrap_or_else(|| format!("multipart/form-data; boundary={b}"));
    send(content_type, body, meta, &files, input.sign);
}

fn send(content_type: String, body: Vec<u8>, meta: Option<Vec<u8>>, files: &[Vec<u8>], sign: bool) {
    let f = &*FIXTURE;
    let timestamp = SystemClock.now();
    let nonce = format!(
        "fuzz{}x{}",
        std::process::id(),
        NONCE.fetch_add(1, Ordering::Relaxed)
    );
    let signed = sign && meta.is_some();
    let signature = match (&meta, signed) {
        (Some(m), true) => {
            let message = message_to_sign(
                "POST",
                goldplan::media::MEDIA_UPLOAD_PATH,
                timestamp,
                &nonce,
                m,
            )
            .unwrap();
            sign_base64(&f.key, &message).unwrap()
        }
        _ => "AAAA".to_owned(),
    };
    let auth = Authorization {
        mchid: f.mchid.clone(),
        nonce_str: nonce,
        timestamp,
        serial_no: f.serial_no.clone(),
        signature,
    };
    let Ok(content_type) = reqwest::header::HeaderValue::from_str(&content_type) else {
        return; // not sendable as an HTTP header at all
    };
    let request = f
        .http
        .post(&f.url)
        .header("Accept", "application/json")
        .header("User-Agent", "goldplan-fuzz")
        .header("Authorization", auth.header_value().unwrap())
        .header("Content-Type", content_type)
        .body(body);
    let (status, text) = f.runtime.block_on(async {
        let response = request
            .send()
            .await
            .expect("the sandbox answers every request");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    });
    assert!(status < 500, "HTTP {status}: {text}");
    if status == 200 {
        assert!(signed, "an unsigned upload was accepted: {text}");
        let reply: serde_json::Value = serde_json::from_str(&text).unwrap();
        let media = f
            .sandbox
            .media(reply["media_id"].as_str().unwrap())
            .unwrap();
        let claimed: serde_json::Value = serde_json::from_slice(meta.as_ref().unwrap()).unwrap();
        assert_eq!(
            Some(media.sha256.as_str()),
            claimed["sha256"]
                .as_str()
                .map(str::to_ascii_lowercase)
                .as_deref()
        );
        let sent = files.iter().any(|file| media.sha256 == sha256_hex(file));
        assert!(
            sent,
            "the recorded media is not the SHA-256 of any file part sent"
        );
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes))
}

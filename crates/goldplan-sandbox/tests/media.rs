//! `POST /v3/merchant/media/upload` (spec §6).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{Options, paths, start};

const BOUNDARY: &str = "goldplan-test-boundary";

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data))
}

fn multipart(meta: &str, file: &[u8], filename: &str) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"meta\";\r\nContent-Type: application/json\r\n\r\n{meta}\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: image/png\r\n\r\n"
    ).as_bytes());
    b.extend_from_slice(file);
    b.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    b
}

fn meta(filename: &str, sha: &str) -> String {
    format!(r#"{{"filename":"{filename}","sha256":"{sha}"}}"#)
}

fn opts(meta: &str, content_type: &str) -> Options {
    Options {
        signed_body: Some(meta.as_bytes().to_vec()),
        content_type: Some(content_type.to_owned()),
        ..Options::default()
    }
}

#[tokio::test]
async fn upload_checks_the_meta_signature_and_sha256() {
    let (sb, c) = start().await;
    let file = b"hello wechatpay";
    let m = meta("logo.png", &sha256_hex(file));
    assert_eq!(
        m,
        r#"{"filename":"logo.png","sha256":"a7b73695002855c3eb342921932e6b7b7a6ee4cb4ef3706ef66f7f42d331f1b7"}"#
    );
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    let r = c
        .send_with(
            "POST",
            paths::UPLOAD,
            &multipart(&m, file, "logo.png"),
            opts(&m, &ct),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    c.verify(&r).unwrap();
    let media_id = r.json()["media_id"].as_str().unwrap().to_owned();
    let rec = sb.media(&media_id).unwrap();
    assert_eq!((rec.filename.as_str(), rec.size), ("logo.png", file.len()));

    // Python's SDK omits the boundary parameter; the boundary is then taken from the body.
    let r = c
        .send_with(
            "POST",
            paths::UPLOAD,
            &multipart(&m, file, "logo.png"),
            opts(&m, "multipart/form-data"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));

    // Signing the multipart body instead of meta is a signature error.
    let body = multipart(&m, file, "logo.png");
    let wrong = Options {
        signed_body: Some(body.clone()),
        ..opts(&m, &ct)
    };
    c.send_with("POST", paths::UPLOAD, &body, wrong)
        .await
        .assert_error(401, "SIGN_ERROR", "签名错误");

    // The file must match meta.sha256.
    let r = c
        .send_with(
            "POST",
            paths::UPLOAD,
            &multipart(&m, b"other bytes", "logo.png"),
            opts(&m, &ct),
        )
        .await;
    r.assert_error(400, "PARAM_ERROR", "");
    assert_eq!(r.json()["detail"]["field"], "/sha256");

    // Images only.
    let m2 = meta("notes.txt", &sha256_hex(file));
    let r = c
        .send_with(
            "POST",
            paths::UPLOAD,
            &multipart(&m2, file, "notes.txt"),
            opts(&m2, &ct),
        )
        .await;
    assert_eq!(r.json()["detail"]["field"], "/filename");

    // Not multipart at all.
    c.send_with("POST", paths::UPLOAD, b"{}", opts("{}", "application/json"))
        .await
        .assert_error(400, "INVALID_REQUEST", "multipart");
}

#[tokio::test]
async fn upload_size_limit_is_a_setting() {
    let (sb, c) = start().await;
    sb.update_settings(&serde_json::json!({"max_upload_bytes": 10}))
        .unwrap();
    let file = b"hello wechatpay";
    let m = meta("logo.jpg", &sha256_hex(file));
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    c.send_with(
        "POST",
        paths::UPLOAD,
        &multipart(&m, file, "logo.jpg"),
        opts(&m, &ct),
    )
    .await
    .assert_error(400, "INVALID_REQUEST", "图片大小");
}

#[tokio::test]
async fn upload_headers_are_checked_before_the_multipart_body() {
    let (_sb, c) = start().await;
    let garbage = b"--x\r\nnot a multipart body at all";
    let ct = "multipart/form-data; boundary=x";
    // Spec §1.4: a missing User-Agent is answered as for every endpoint.
    let no_ua = Options {
        user_agent: Some(None),
        ..opts("{}", ct)
    };
    c.send_with("POST", paths::UPLOAD, garbage, no_ua)
        .await
        .assert_error(400, "INVALID_REQUEST", "User-Agent");
    // A missing Authorization, a stale timestamp: also before the body is looked at.
    let no_auth = Options {
        authorization: Some(None),
        ..opts("{}", ct)
    };
    c.send_with("POST", paths::UPLOAD, garbage, no_auth)
        .await
        .assert_error(401, "SIGN_ERROR", "Authorization");
    let stale = Options {
        timestamp_offset: -3600,
        ..opts("{}", ct)
    };
    c.send_with("POST", paths::UPLOAD, garbage, stale)
        .await
        .assert_error(401, "SIGN_ERROR", "时间戳");
    // Well-formed headers: now the body is parsed.
    c.send_with("POST", paths::UPLOAD, garbage, opts("{}", ct))
        .await
        .assert_error(400, "PARAM_ERROR", "");
}

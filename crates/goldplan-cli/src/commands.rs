//! The commands that talk to WeChat Pay (or a sandbox) with a configured merchant.

use std::path::Path;
use std::sync::Arc;

use goldplan::client::{JsonReply, Operation};
use goldplan::clock::ManualClock;
use goldplan::{Error, Result, receipt};
use serde_json::{Value, json};

use crate::config::{Keys, Settings};
use crate::operations::RegistryCall;
use crate::output::{Out, exit};

fn print_reply(out: Out, operation: Operation, reply: &JsonReply) -> Result<u8> {
    let data: Value = serde_json::from_slice(&reply.json)
        .map_err(|e| Error::Decode(format!("the result of {operation} is not JSON: {e}")))?;
    let request_id = reply.request_id.as_deref().unwrap_or("-");
    if data.is_null() {
        out.line(format!("{operation}: ok (Request-ID {request_id})"));
    } else {
        out.line(format!("{operation}: ok {data} (Request-ID {request_id})"));
    }
    out.document(&json!({
        "ok": true,
        "operation": operation.as_str(),
        "data": data,
        "request_id": reply.request_id,
    }));
    Ok(exit::OK)
}

fn to_json(value: &Value) -> Vec<u8> {
    // A `Value` built by `json!` always serialises.
    serde_json::to_vec(value).unwrap_or_default()
}

/// `goldplan gold-plan <operation>` and `goldplan pay <operation>`: a registry operation run
/// from its JSON arguments.
pub async fn registry_call(settings: &Settings, call: RegistryCall, out: Out) -> Result<u8> {
    let client = settings.client(Keys::Configured)?;
    let reply = client
        .call_json(call.operation, &to_json(&call.arguments))
        .await?;
    print_reply(out, call.operation, &reply)
}

#[derive(serde::Deserialize)]
struct DownloadedCertificate {
    serial_no: String,
    not_before: String,
    not_after: String,
    pem: String,
}

#[derive(serde::Deserialize)]
struct DownloadResult {
    certificates: Vec<DownloadedCertificate>,
}

/// `goldplan certs download`.
pub async fn certs_download(settings: &Settings, dir: &Path, out: Out) -> Result<u8> {
    let client = settings.client(Keys::WithCertificates)?;
    let reply = client
        .call_json(Operation::RefreshCertificates, b"{}")
        .await?;
    let result: DownloadResult = serde_json::from_slice(&reply.json)
        .map_err(|e| Error::Decode(format!("unexpected download result: {e}")))?;
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::Configuration(format!("cannot create {}: {e}", dir.display())))?;
    let mut written = Vec::new();
    for cert in result.certificates {
        let path = dir.join(format!("wechatpay_{}.pem", cert.serial_no));
        std::fs::write(&path, format!("{}\n", cert.pem))
            .map_err(|e| Error::Configuration(format!("cannot write {}: {e}", path.display())))?;
        out.line(format!(
            "{} serial {} valid {} .. {}",
            path.display(),
            cert.serial_no,
            cert.not_before,
            cert.not_after
        ));
        written.push(json!({
            "path": path,
            "serial_no": cert.serial_no,
            "not_before": cert.not_before,
            "not_after": cert.not_after,
        }));
    }
    out.document(&json!({"ok": true, "certificates": written}));
    Ok(exit::OK)
}

/// `goldplan request METHOD PATH [BODY]`.
pub async fn request(
    settings: &Settings,
    method: &str,
    path: &str,
    body: Option<&str>,
    out: Out,
) -> Result<u8> {
    let body = match body {
        Some(b) if b.starts_with('@') => Some(read_input(
            Path::new(&b[1..]),
            "body file",
            MAX_REQUEST_BODY_FILE,
        )?),
        Some(b) => Some(b.as_bytes().to_vec()),
        None => None,
    };
    let client = settings.client(Keys::Configured)?;
    let mut args = json!({"method": method, "path": path});
    if let Some(body) = body {
        let text = String::from_utf8(body)
            .map_err(|_| Error::InvalidInput("the request body is not UTF-8".into()))?;
        args["body_text"] = Value::String(text);
    }
    let reply = client
        .call_json(Operation::Request, &to_json(&args))
        .await?;
    let mut response: Value = serde_json::from_slice(&reply.json)
        .map_err(|e| Error::Decode(format!("unexpected request result: {e}")))?;
    let request_id = reply.request_id.as_deref().unwrap_or("-");
    out.line(format!(
        "HTTP {} (Request-ID {request_id}, signed by {})",
        response["status"],
        response["serial"].as_str().unwrap_or("-")
    ));
    match &response["body"] {
        Value::Null => {}
        Value::String(text) => out.line(text),
        other => out.line(other.to_string()),
    }
    if let Some(map) = response.as_object_mut() {
        map.remove("headers");
        map.insert("ok".into(), Value::Bool(true));
    }
    out.document(&response);
    Ok(exit::OK)
}

/// Largest `--headers` file: a callback's headers are well under 8 KiB.
const MAX_HEADERS_FILE: u64 = 64 * 1024;
/// Largest `request … @FILE` body.
const MAX_REQUEST_BODY_FILE: u64 = 8 * 1024 * 1024;

/// A file given on the command line: a regular file of at most `max` bytes, read in one
/// bounded step (`/dev/zero` or a FIFO is refused before reading).
fn read_input(path: &Path, what: &str, max: u64) -> Result<Vec<u8>> {
    goldplan::files::read_bounded(path, max)
        .map_err(|e| Error::InvalidInput(format!("the {what} {:?} {e}", path.display())))
}

/// The members of a JSON object in file order, duplicates kept (a `Map` would silently keep
/// the last of two), so that a repeated header is refused like in the `Name: value` form.
struct HeaderObject(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for HeaderObject {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = HeaderObject;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object of header names and values")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<HeaderObject, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, Value>()? {
                    members.push(member);
                }
                Ok(HeaderObject(members))
            }
        }
        d.deserialize_map(Members)
    }
}

/// Reads headers from a JSON object or `Name: value` lines. Every pair is kept, repeats
/// included, so a verification header given twice is refused whichever form the file has.
pub fn read_headers(path: &Path) -> Result<Vec<(String, String)>> {
    let bytes = read_input(path, "headers file", MAX_HEADERS_FILE)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::InvalidInput(format!(
            "the headers file {:?} is not UTF-8",
            path.display()
        ))
    })?;
    let headers = if let Ok(HeaderObject(members)) = serde_json::from_str::<HeaderObject>(&text) {
        members
            .into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => (k, s),
                other => (k, other.to_string()),
            })
            .collect()
    } else {
        let mut headers = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            // The line itself is not shown: it may be anything (a whole binary file).
            let (name, value) = line.split_once(':').ok_or_else(|| {
                Error::InvalidInput(format!(
                    "line {} of the headers file {:?} has no ':' ({} bytes); expected \
                         `Name: value` lines or a JSON object",
                    number + 1,
                    path.display(),
                    line.len()
                ))
            })?;
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
        headers
    };
    Ok(headers)
}

/// `goldplan notify verify`.
pub async fn notify_verify(
    settings: &Settings,
    headers: &Path,
    body: &Path,
    now: Option<i64>,
    out: Out,
) -> Result<u8> {
    let headers = read_headers(headers)?;
    let body = read_input(
        body,
        "body file",
        goldplan::notification::MAX_NOTIFICATION_BODY as u64,
    )?;
    let mut builder = settings.builder(Keys::Configured)?;
    if let Some(now) = now {
        builder = builder.clock(Arc::new(ManualClock::new(now)));
    }
    let client = builder.build()?;
    let n = client.parse_notification(headers, &body, None).await?;
    out.line(format!(
        "notification {} verified (signed by {})",
        n.id, n.serial
    ));
    out.line(format!("event_type: {}", n.event_type));
    out.line(format!("create_time: {}", n.create_time));
    if let Some(summary) = &n.summary {
        out.line(format!("summary: {summary}"));
    }
    out.line(format!("resource: {}", n.plaintext()));
    let resource: Value =
        serde_json::from_str(n.plaintext()).unwrap_or(Value::String(n.plaintext().to_owned()));
    out.document(&json!({
        "ok": true,
        "id": n.id,
        "event_type": n.event_type,
        "resource_type": n.resource_type,
        "create_time": n.create_time,
        "summary": n.summary,
        "serial": n.serial,
        "resource": resource,
    }));
    Ok(exit::OK)
}

/// `goldplan receipt check`.
pub fn receipt_check(url: &str, link: &str, transaction_id: &str, out: Out) -> Result<u8> {
    let params = receipt::parse_receipt_query(url)?;
    let valid = params.verify(link, transaction_id);
    let expected = receipt::expected_check_code(
        link,
        &params.sub_mch_id.raw,
        &params.out_trade_no.raw,
        transaction_id,
    );
    out.line(format!(
        "sub_mch_id {} out_trade_no {}: check_code {}",
        params.sub_mch_id.decoded,
        params.out_trade_no.decoded,
        if valid { "VALID" } else { "INVALID" }
    ));
    if !valid {
        out.line(format!(
            "expected {expected}, got {}",
            params.check_code.raw
        ));
    }
    out.document(&json!({
        "ok": valid,
        "valid": valid,
        "sub_mch_id": params.sub_mch_id.decoded,
        "out_trade_no": params.out_trade_no.decoded,
        "expected_check_code": expected,
    }));
    Ok(if valid { exit::OK } else { exit::VERIFICATION })
}

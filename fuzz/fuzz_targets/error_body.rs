//! `ApiError::from_response`: the body of a non-2xx answer, which is NOT signed (spec §7.2), so
//! anything a proxy or an attacker on the path writes ends up in an error message.
//!
//! Invariants: the fields agree with an independent JSON read of the body; the kept raw body is
//! bounded; the message (`Display`, also through `Error` and its JSON report) holds no control
//! character or text-reordering mark and has a bounded length; retry classification is
//! consistent with the status (5xx and 429 retry, 404 ORDER_NOT_EXIST never does).
#![no_main]

use arbitrary::Arbitrary;
use goldplan::{ApiError, Error};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

#[derive(Arbitrary, Debug)]
enum Body {
    Raw(Vec<u8>),
    /// A WeChat-shaped error object; `detail` as a JSON text (kept raw when it is not JSON).
    Shaped {
        code: Option<String>,
        message: Option<String>,
        detail: Option<String>,
        extra: String,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    status: u16,
    request_id: Option<String>,
    body: Body,
}

/// What `Display` must never let through (goldplan::untrusted's list).
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

// Bytes 0-1: status (big-endian); byte 2: odd = a Request-ID follows up to the first '\n';
// then the body (seeds: error bodies of tests/vectors/operations). Or, with byte 2 >= 0x80,
// the rest is a structured `Input` (a WeChat-shaped object).
fuzz_target!(|data: &[u8]| {
    let input = if data.len() >= 3 && data[2] >= 0x80 {
        match Input::arbitrary_take_rest(arbitrary::Unstructured::new(&data[3..])) {
            Ok(i) => i,
            Err(_) => return,
        }
    } else {
        let status = u16::from_be_bytes([
            data.first().copied().unwrap_or(0),
            data.get(1).copied().unwrap_or(0),
        ]);
        let mut rest = data.get(3..).unwrap_or_default();
        let mut request_id = None;
        if data.get(2).is_some_and(|b| b % 2 == 1) {
            let i = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            request_id = Some(String::from_utf8_lossy(&rest[..i]).into_owned());
            rest = rest.get(i + 1..).unwrap_or_default();
        }
        Input {
            status,
            request_id,
            body: Body::Raw(rest.to_vec()),
        }
    };
    let body = match input.body {
        Body::Raw(bytes) => bytes,
        Body::Shaped {
            code,
            message,
            detail,
            extra,
        } => {
            let mut o = serde_json::Map::new();
            if let Some(c) = code {
                o.insert("code".into(), c.into());
            }
            if let Some(m) = message {
                o.insert("message".into(), m.into());
            }
            if let Some(d) = detail {
                o.insert(
                    "detail".into(),
                    serde_json::from_str(&d).unwrap_or(Value::String(d)),
                );
            }
            let mut text = Value::Object(o).to_string();
            text.push_str(&extra);
            text.into_bytes()
        }
    };
    let e = ApiError::from_response(input.status, input.request_id.clone(), &body);
    assert_eq!(e.status, input.status);
    assert_eq!(e.request_id, input.request_id);
    assert!(
        e.raw_body.chars().count() <= 4096,
        "raw body of {} chars",
        e.raw_body.chars().count()
    );

    // Independent read: a JSON object with string `code`/`message` must give those values.
    if let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(&body) {
        let string = |k: &str| o.get(k).and_then(Value::as_str);
        let wellformed = o.get("code").is_none_or(Value::is_string)
            && o.get("message").is_none_or(Value::is_string);
        if wellformed {
            assert_eq!(e.code, string("code").unwrap_or(""));
            assert_eq!(e.message, string("message").unwrap_or(""));
        }
    }

    let shown = e.to_string();
    assert!(
        !shown.chars().any(unsafe_char),
        "unescaped character in {shown:?}"
    );
    // code 128 + message 1024 + detail 1024 + Request-ID 128 characters shown at most, each
    // escaped to at most 10 bytes (`\u{10ffff}`), plus the fixed text.
    assert!(
        shown.len() <= (128 + 1024 + 1024 + 128) * 10 + 200,
        "{} bytes shown",
        shown.len()
    );

    if e.status >= 500 || e.status == 429 {
        assert!(e.is_retryable());
    }
    // "The order does not exist" is an answer: never retried unless the status says so.
    if e.is_not_found() && e.status < 500 && e.status != 429 && e.status != 202 {
        assert!(!e.is_retryable());
    }
    let err = Error::from(e.clone());
    let report = err.report().to_json();
    assert!(
        serde_json::from_str::<Value>(&report).is_ok(),
        "report is not JSON"
    );
    assert!(!err.to_string().chars().any(unsafe_char));
    assert_eq!(err.api(), Some(&e));
});

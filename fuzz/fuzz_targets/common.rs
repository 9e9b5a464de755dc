//! Shared by the targets: the committed test vectors (tests/vectors, TEST KEYS ONLY) and the
//! header/body edits that `response_verify` and `notification` apply to a genuine message.
#![allow(dead_code)]

use arbitrary::Arbitrary;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use goldplan::verify::WechatpayHeaders;
use serde_json::Value;

pub const NOTIFICATION_JSON: &str = include_str!("../../tests/vectors/notification.json");
pub const CERTIFICATES_JSON: &str = include_str!("../../tests/vectors/certificates.json");
pub const SECRET_SWEEP_JSON: &str = include_str!("../../tests/vectors/secret_sweep.json");
pub const PLATFORM_CERT: &str = include_str!("../../tests/vectors/keys/platform_test_cert.pem");
pub const PLATFORM2_CERT: &str = include_str!("../../tests/vectors/keys/platform2_test_cert.pem");
pub const EXPIRED_CERT: &str = include_str!("../../tests/vectors/keys/expired_test_cert.pem");
pub const MERCHANT_CERT: &str = include_str!("../../tests/vectors/keys/merchant_test_cert.pem");
pub const MERCHANT_KEY: &str = include_str!("../../tests/vectors/keys/merchant_test_key.pem");
pub const MERCHANT_KEY_PKCS1: &str =
    include_str!("../../tests/vectors/keys/merchant_test_key_pkcs1.pem");
pub const WECHATPAY_PUBKEY: &str =
    include_str!("../../tests/vectors/keys/wechatpay_test_pubkey.pem");
/// The private half of the WeChat Pay test public key: lets a target sign bodies it made up.
pub const WECHATPAY_KEY: &str =
    include_str!("../../tests/vectors/keys/wechatpay_test_pubkey_key.pem");

pub fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("committed vector is JSON")
}

/// A signed message as received: header pairs and the raw body.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
    pub now: i64,
}

impl Message {
    /// A case of notification.json / certificates.json: `{headers: {..}, body: "..."}`.
    pub fn from_case(case: &Value, now: i64) -> Message {
        let headers = case["headers"]
            .as_object()
            .expect("headers")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().expect("header").as_bytes().to_vec()))
            .collect();
        let body = case["body"].as_str().expect("body").as_bytes().to_vec();
        Message { headers, body, now }
    }
}

/// One change an attacker (or a broken gateway / proxy) can make to a message in transit.
#[derive(Arbitrary, Debug)]
pub enum Edit {
    SetHeader {
        index: u8,
        value: Vec<u8>,
    },
    RenameHeader {
        index: u8,
        name: String,
    },
    DropHeader(u8),
    AddHeader {
        name: String,
        value: Vec<u8>,
    },
    /// Flips bits of one byte of the decoded signature and re-encodes it: reaches the RSA check
    /// with a well-formed but wrong signature.
    FlipSignatureBit {
        at: u16,
        xor: u8,
    },
    FlipBodyByte {
        at: u16,
        xor: u8,
    },
    InsertBody {
        at: u16,
        bytes: Vec<u8>,
    },
    TruncateBody(u16),
    ShiftClock(i32),
}

pub fn apply(message: &mut Message, edits: &[Edit]) {
    for edit in edits {
        let n = message.headers.len();
        match edit {
            Edit::SetHeader { index, value } if n > 0 => {
                message.headers[*index as usize % n].1 = value.clone()
            }
            Edit::RenameHeader { index, name } if n > 0 => {
                message.headers[*index as usize % n].0 = name.clone()
            }
            Edit::DropHeader(index) if n > 0 => {
                message.headers.remove(*index as usize % n);
            }
            Edit::AddHeader { name, value } => message.headers.push((name.clone(), value.clone())),
            Edit::FlipSignatureBit { at, xor } => {
                for (name, value) in &mut message.headers {
                    if name.eq_ignore_ascii_case("wechatpay-signature")
                        && let Ok(mut raw) = STANDARD.decode(&*value)
                        && !raw.is_empty()
                    {
                        let i = *at as usize % raw.len();
                        raw[i] ^= *xor;
                        *value = STANDARD.encode(raw).into_bytes();
                    }
                }
            }
            Edit::FlipBodyByte { at, xor } if !message.body.is_empty() => {
                let i = *at as usize % message.body.len();
                message.body[i] ^= *xor;
            }
            Edit::InsertBody { at, bytes } => {
                let i = (*at as usize).min(message.body.len());
                message.body.splice(i..i, bytes.iter().copied());
            }
            Edit::TruncateBody(len) => message.body.truncate(*len as usize),
            Edit::ShiftClock(delta) => message.now += i64::from(*delta),
            _ => {}
        }
    }
}

/// The parts of a message the signature covers, as the SDK reads them: timestamp, nonce,
/// decoded signature, body, and the key the serial names (certificate serials compare
/// numerically, `0ABC` = `ABC`; key ids exactly). Two messages with equal parts are the same
/// message (surrounding blanks and header-name case are not part of a header, RFC 9110 §5).
pub fn signed_parts(m: &Message) -> Option<(String, String, Vec<u8>, Vec<u8>, String)> {
    let h = WechatpayHeaders::from_pairs(m.headers.iter().map(|(k, v)| (k.as_str(), v))).ok()?;
    let serial = h.serial?;
    let key = match goldplan::x509::SerialNumber::parse(&serial) {
        Ok(s) => s.as_str().to_owned(),
        Err(_) => serial,
    };
    Some((
        h.timestamp?,
        h.nonce?,
        STANDARD.decode(h.signature?).ok()?,
        m.body.clone(),
        key,
    ))
}

/// Every 16-character window of every line of secret_sweep.json's `must_not_appear` (the test
/// merchant key and the APIv3 key): no message may carry one (its `window` is 16).
pub fn secret_windows() -> std::collections::HashSet<String> {
    let sweep = json(SECRET_SWEEP_JSON);
    let window = sweep["window"].as_u64().expect("window") as usize;
    let mut out = std::collections::HashSet::new();
    for secret in sweep["must_not_appear"]
        .as_array()
        .expect("must_not_appear")
    {
        for line in secret.as_str().expect("string").lines() {
            let chars: Vec<char> = line.chars().collect();
            for w in chars.windows(window) {
                out.insert(w.iter().collect());
            }
        }
    }
    out
}

/// The first secret window found in `text`, if any.
pub fn leaked<'a>(
    windows: &'a std::collections::HashSet<String>,
    text: &str,
) -> Option<&'a String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .windows(16)
        .find_map(|w| windows.get(&w.iter().collect::<String>()))
}

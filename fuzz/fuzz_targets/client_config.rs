//! `ClientConfig::from_json` (sandbox.json, the CLI's --config, every binding's config dict)
//! and the checks that load what it names (`private_key`, `apiv3_key`, `public_key`,
//! `credentials`, `builder`).
//!
//! Invariant: no error text and no `Debug` output contains any 16-character window of the
//! secrets planted in the input (the test merchant key and the APIv3 key of
//! tests/vectors/secret_sweep.json), whichever field they are put in and however the JSON
//! around them is broken. The input is structured (field name + kind of value) because random
//! bytes would almost never form a JSON object carrying a key.
#![no_main]

mod common;

use std::collections::HashSet;
use std::sync::LazyLock;

use arbitrary::Arbitrary;
use goldplan::config::ClientConfig;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

struct Fixture {
    windows: HashSet<String>,
    secrets: Vec<String>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let sweep = common::json(common::SECRET_SWEEP_JSON);
    let secrets = sweep["values"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    Fixture {
        windows: common::secret_windows(),
        secrets,
    }
});

/// Every setting ClientConfig reads, under each of its spellings, plus one it ignores.
const FIELDS: &[&str] = &[
    "base_url",
    "mchid",
    "serial_no",
    "private_key",
    "private_key_pem",
    "private_key_path",
    "merchant_certificate",
    "certificate_pem",
    "apiv3_key",
    "public_key_id",
    "public_key",
    "public_key_pem",
    "public_key_path",
    "mode",
    "timeout",
    "timeout_secs",
    "connect_timeout",
    "connect_timeout_secs",
    "proxy",
    "max_attempts",
    "max_skew_secs",
    "max_response_body",
    "sub_mchids",
];

#[derive(Arbitrary, Debug)]
enum Val {
    /// One of the planted secrets (see secret_sweep.json's `values`), whole, with blanks or
    /// quotes around it as .env files and shells leave them (`pad` picks them).
    Secret {
        which: u8,
        pad: Vec<u8>,
    },
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    List(Vec<String>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    fields: Vec<(u8, Val)>,
    /// Cuts the JSON text here (a truncated file), and appends this (garbage, a second value).
    truncate: Option<u16>,
    trailer: String,
}

// Byte 0 even: the rest is the JSON text itself (seeds: configurations carrying the secrets of
// secret_sweep.json). Odd: a structured `Input` that plants them field by field.
fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        check_config(&String::from_utf8_lossy(rest));
    } else if let Ok(input) = Input::arbitrary_take_rest(arbitrary::Unstructured::new(rest)) {
        structured(input);
    }
});

fn structured(input: Input) {
    let f = &*FIXTURE;
    let mut object = serde_json::Map::new();
    for (field, val) in input.fields {
        let value = match val {
            Val::Secret { which, pad } => {
                let secret = &f.secrets[which as usize % f.secrets.len()];
                let blank = |b: &u8| [' ', '"', '\'', '\t', '\n', '\r'][*b as usize % 6];
                let (before, after) = pad.split_at(pad.len() / 2);
                let mut s: String = before.iter().map(blank).collect();
                s.push_str(secret);
                s.extend(after.iter().map(blank));
                Value::String(s)
            }
            Val::Text(t) => Value::String(t),
            Val::Int(i) => i.into(),
            Val::Float(x) => serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number),
            Val::Bool(b) => b.into(),
            Val::Null => Value::Null,
            Val::List(l) => l.into(),
        };
        let name = FIELDS[field as usize % FIELDS.len()];
        object.insert(name.to_owned(), value);
    }
    let mut text = Value::Object(object).to_string();
    if let Some(at) = input.truncate {
        let at = (at as usize).min(text.len());
        if text.is_char_boundary(at) {
            text.truncate(at);
        }
    }
    text.push_str(&input.trailer);
    check_config(&text);
}

fn check_config(text: &str) {
    let f = &*FIXTURE;

    let check = |what: &str, shown: String| {
        if let Some(w) = common::leaked(&f.windows, &shown) {
            panic!("{what} shows secret material {w:?}: {shown}");
        }
    };
    match ClientConfig::from_json(text, None) {
        Err(e) => check("from_json error", e.to_string()),
        Ok(config) => {
            // `Debug` shows a plain setting once it is valid for its field (a `PUB_KEY_ID_…` made
            // of key fragments is a valid key id): such shown values are not checked, the rest is.
            let shown_values = [
                &config.base_url,
                &config.mchid,
                &config.serial_no,
                &config.public_key_id,
            ];
            let unshown = |text: String| {
                shown_values
                    .iter()
                    .copied()
                    .flatten()
                    .fold(text, |t, v| t.replace(&format!("{v:?}"), "<shown value>"))
            };
            check("Debug", unshown(format!("{config:?}")));
            // Reading a *_path field would touch the file system: only PEM text is loaded.
            let any_path = [
                &config.private_key,
                &config.public_key,
                &config.merchant_certificate,
            ]
            .into_iter()
            .flatten()
            .any(|k| k.is_path());
            if any_path {
                return;
            }
            let _ = config.mode();
            if let Err(e) = config.apiv3_key() {
                check("apiv3_key error", e.to_string());
            }
            if let Err(e) = config.public_key() {
                check("public_key error", e.to_string());
            }
            match config.credentials() {
                Err(e) => check("credentials error", e.to_string()),
                Ok(c) => check("credentials Debug", unshown(format!("{c:?}"))),
            }
            if let Err(e) = config.builder() {
                check("builder error", e.to_string());
            }
        }
    }
}

//! The `Authorization` request header (spec §1.3) as the sandbox gateway reads it: the sandbox's
//! `wire::check_headers` is private, and hands the header to the public
//! `goldplan::sign::Authorization::parse`, which this target drives (the `multipart_upload`
//! target also reaches it over HTTP).
//!
//! Invariants: (1) a header that parses re-serialises (`header_value`) to one that parses to
//! the same fields; (2) a header built from any fields either is refused by `header_value` or
//! by `parse`, or parses back to exactly those fields: never to other ones (no parameter
//! injection through a field value).
#![no_main]

use arbitrary::Arbitrary;
use goldplan::sign::Authorization;
use libfuzzer_sys::fuzz_target;

/// Byte 0 even: the rest is a header value (seeds: tests/vectors/authorization.json). Odd: a
/// structured `Fields`.
#[derive(Arbitrary, Debug)]
enum Input {
    Header(String),
    Fields {
        mchid: String,
        nonce_str: String,
        timestamp: i64,
        serial_no: String,
        signature: String,
    },
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let input = if mode % 2 == 0 {
        Input::Header(String::from_utf8_lossy(rest).into_owned())
    } else {
        match Input::arbitrary_take_rest(arbitrary::Unstructured::new(rest)) {
            Ok(i) => i,
            Err(_) => return,
        }
    };
    run(input);
});

fn run(input: Input) {
    match input {
        Input::Header(text) => {
            if let Ok(a) = Authorization::parse(&text)
                && let Ok(again) = a.header_value()
            {
                assert_eq!(
                    Authorization::parse(&again).ok().as_ref(),
                    Some(&a),
                    "{again:?}"
                );
            }
        }
        Input::Fields {
            mchid,
            nonce_str,
            timestamp,
            serial_no,
            signature,
        } => {
            let a = Authorization {
                mchid,
                nonce_str,
                timestamp,
                serial_no,
                signature,
            };
            if let Ok(header) = a.header_value()
                && let Ok(parsed) = Authorization::parse(&header)
            {
                assert!(parsed == a, "{header:?} parses to other fields");
            }
        }
    }
}

//! The merchant receipt page: `parse_receipt_query` (the URL WeChat appends parameters to) and
//! the `check_code` helpers (spec §9.3).
//!
//! Invariants: each parsed value is a substring of the input and its `decoded` form is its
//! percent-decoding; the parsed parameters survive a rebuild of the query; the check code of a
//! set of values verifies (in either case) and any other code does not.
#![no_main]

use goldplan::receipt::{expected_check_code, parse_receipt_query, verify_check_code};
use libfuzzer_sys::fuzz_target;

/// The input is four lines: url, configured link, transaction_id, a check code to try
/// (seeds: tests/vectors/receipt.json).
struct Input {
    url: String,
    link: String,
    transaction_id: String,
    /// A check code to try against the parsed values.
    guess: String,
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.splitn(4, '\n').map(str::to_owned);
    let mut next = || lines.next().unwrap_or_default();
    let input = Input {
        url: next(),
        link: next(),
        transaction_id: next(),
        guess: next(),
    };
    let Ok(p) = parse_receipt_query(&input.url) else {
        return;
    };
    for v in [&p.sub_mch_id, &p.out_trade_no, &p.check_code] {
        assert!(input.url.contains(&v.raw));
        let decoded = percent_encoding::percent_decode_str(&v.raw)
            .decode_utf8()
            .unwrap();
        assert_eq!(decoded, v.decoded);
    }
    let rebuilt = format!(
        "https://example.invalid/r?sub_mch_id={}&out_trade_no={}&check_code={}",
        p.sub_mch_id.raw, p.out_trade_no.raw, p.check_code.raw
    );
    // A raw value holding '&' or '#' cannot come out of the parser, so the rebuild is exact.
    assert_eq!(parse_receipt_query(&rebuilt).ok(), Some(p.clone()));

    let code = expected_check_code(
        &input.link,
        &p.sub_mch_id.raw,
        &p.out_trade_no.raw,
        &input.transaction_id,
    );
    assert_eq!(code.len(), 32);
    let (sub, order, tid) = (
        &p.sub_mch_id.raw,
        &p.out_trade_no.raw,
        &input.transaction_id,
    );
    assert!(verify_check_code(&input.link, sub, order, tid, &code));
    assert!(verify_check_code(
        &input.link,
        sub,
        order,
        tid,
        &code.to_ascii_uppercase()
    ));
    let guess_ok = verify_check_code(&input.link, sub, order, tid, &input.guess);
    assert_eq!(guess_ok, input.guess.trim().eq_ignore_ascii_case(&code));
    assert_eq!(
        p.verify(&input.link, tid),
        p.check_code.raw.trim().eq_ignore_ascii_case(&code)
    );
});

//! The merchant receipt (商家小票) page's `check_code` (spec §9.3): computing it, verifying it in
//! constant time, and parsing the query parameters WeChat appends to the receipt link.

use md5::{Digest, Md5};
use percent_encoding::percent_decode_str;
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};

/// The string whose MD5 is the check code:
/// `<configured_link>?sub_mch_id=<v1>&out_trade_no=<v2>&transaction_id=<tid>`, values exactly as
/// received (raw), the link exactly as configured in the portal.
pub fn check_code_input(
    configured_link: &str,
    sub_mch_id: &str,
    out_trade_no: &str,
    transaction_id: &str,
) -> String {
    format!(
        "{configured_link}?sub_mch_id={sub_mch_id}&out_trade_no={out_trade_no}&transaction_id={transaction_id}"
    )
}

/// The expected `check_code`: lower-case hex MD5 of [`check_code_input`].
pub fn expected_check_code(
    configured_link: &str,
    sub_mch_id: &str,
    out_trade_no: &str,
    transaction_id: &str,
) -> String {
    let input = check_code_input(configured_link, sub_mch_id, out_trade_no, transaction_id);
    hex::encode(Md5::digest(input.as_bytes()))
}

/// Whether `check_code` is the one WeChat computed for this order; compared in constant time
/// and case-insensitively.
pub fn verify_check_code(
    configured_link: &str,
    sub_mch_id: &str,
    out_trade_no: &str,
    transaction_id: &str,
    check_code: &str,
) -> bool {
    let expected = expected_check_code(configured_link, sub_mch_id, out_trade_no, transaction_id);
    let given = check_code.trim().to_ascii_lowercase();
    expected.as_bytes().ct_eq(given.as_bytes()).into()
}

/// One query parameter as received and percent-decoded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct QueryValue {
    /// Exactly as it appears in the URL (use this for the check code).
    pub raw: String,
    /// Percent-decoded (`+` is left as is: WeChat does not form-encode).
    pub decoded: String,
}

/// The three parameters WeChat appends to the receipt link (serialises as `{sub_mch_id,
/// out_trade_no, check_code}`, each `{raw, decoded}`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct ReceiptParams {
    /// `sub_mch_id` (note the spelling, unlike the API's `sub_mchid`).
    pub sub_mch_id: QueryValue,
    /// `out_trade_no`.
    pub out_trade_no: QueryValue,
    /// `check_code`.
    pub check_code: QueryValue,
}

impl ReceiptParams {
    /// Checks the received `check_code` against the order's `transaction_id`, using the raw
    /// values.
    pub fn verify(&self, configured_link: &str, transaction_id: &str) -> bool {
        verify_check_code(
            configured_link,
            &self.sub_mch_id.raw,
            &self.out_trade_no.raw,
            transaction_id,
            &self.check_code.raw,
        )
    }
}

/// Parses a received receipt URL, or just its query string, into the three parameters. Each
/// must be present exactly once.
pub fn parse_receipt_query(url_or_query: &str) -> Result<ReceiptParams> {
    let without_fragment = url_or_query.split('#').next().unwrap_or_default();
    let query = match without_fragment.split_once('?') {
        Some((_, q)) => q,
        None => without_fragment,
    };
    let mut found: [Option<QueryValue>; 3] = [None, None, None];
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, raw) = pair.split_once('=').unwrap_or((pair, ""));
        let index = match name {
            "sub_mch_id" => 0,
            "out_trade_no" => 1,
            "check_code" => 2,
            _ => continue,
        };
        let decoded = percent_decode_str(raw)
            .decode_utf8()
            .map_err(|_| Error::InvalidInput(format!("{name} is not UTF-8 once decoded")))?
            .into_owned();
        if found[index]
            .replace(QueryValue {
                raw: raw.to_owned(),
                decoded,
            })
            .is_some()
        {
            return Err(Error::InvalidInput(format!(
                "the receipt URL carries {name} more than once"
            )));
        }
    }
    let [sub, order, code] = found;
    let missing = |name: &str| Error::InvalidInput(format!("the receipt URL lacks {name}"));
    Ok(ReceiptParams {
        sub_mch_id: sub.ok_or_else(|| missing("sub_mch_id"))?,
        out_trade_no: order.ok_or_else(|| missing("out_trade_no"))?,
        check_code: code.ok_or_else(|| missing("check_code"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_duplicated_parameters_are_errors() {
        assert!(parse_receipt_query("https://x/r?sub_mch_id=1&out_trade_no=2").is_err());
        assert!(
            parse_receipt_query("?sub_mch_id=1&sub_mch_id=1&out_trade_no=2&check_code=3").is_err()
        );
        let p = parse_receipt_query("sub_mch_id=1&out_trade_no=2&check_code=3&x=y#frag").unwrap();
        assert_eq!(p.check_code.raw, "3");
    }

    #[test]
    fn wrong_length_check_code_is_false_not_a_panic() {
        assert!(!verify_check_code("https://x", "1", "2", "3", ""));
        assert!(!verify_check_code("https://x", "1", "2", "3", "abc"));
    }
}

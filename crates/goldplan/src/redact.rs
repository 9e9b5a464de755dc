//! How a value the caller gave appears in a message once it has failed validation: never
//! itself, only its length and a harmless hint at what it looks like.
//!
//! People paste keys into the wrong variable (an environment variable meant for the mode, a
//! flag meant for the merchant id), and an error that quoted the value back would print the key
//! into a terminal, a log or a CI transcript. So a rejected value is described, not shown; the
//! description still tells the user which mistake they made ("looks like PEM", "the length of
//! an APIv3 key").

use std::fmt;

use crate::credentials::{APIV3_KEY_LEN, KeySource};

/// A rejected value, described without its content: `Rejected(value).to_string()` gives e.g.
/// `a value of 1704 characters, not shown (it looks like PEM text)`.
#[derive(Clone, Copy)]
pub struct Rejected<'a>(pub &'a str);

impl Rejected<'_> {
    /// What the value looks like, when that helps the user see their mistake.
    fn hint(&self) -> Option<&'static str> {
        let text = self.0;
        let chars = text.chars().count();
        if text.contains(KeySource::PEM_MARKER) {
            Some("it looks like PEM text")
        } else if text.contains(['\n', '\r']) {
            Some("it spans several lines")
        } else if chars >= 64
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        {
            Some("it looks like base64 key material")
        } else if chars == APIV3_KEY_LEN && text.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Some("it has the length of an APIv3 key")
        } else if text.trim().is_empty() && !text.is_empty() {
            Some("it is only white space")
        } else {
            None
        }
    }
}

impl fmt::Display for Rejected<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chars = self.0.chars().count();
        if chars == 0 {
            return f.write_str("an empty value");
        }
        let unit = if chars == 1 {
            "character"
        } else {
            "characters"
        };
        write!(f, "a value of {chars} {unit}, not shown")?;
        if let Some(hint) = self.hint() {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Rejected<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{self}>")
    }
}

/// A message of a parser we do not control (serde, clap) with every quoted run — between `"`,
/// `'` or `` ` `` — replaced by its description, except the names of settings and enum values
/// (lower-case ASCII words such as `max_attempts` or `public_key`), which are what makes the
/// message useful and never hold a secret.
pub fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(512));
    let mut rest = message;
    while let Some(start) = rest.find(['"', '\'', '`']) {
        let quote = rest[start..].chars().next().unwrap_or('"');
        out.push_str(&rest[..start + quote.len_utf8()]);
        let after = &rest[start + quote.len_utf8()..];
        match after.find(quote) {
            Some(end) => {
                let inner = &after[..end];
                if is_name(inner) {
                    out.push_str(inner);
                } else {
                    out.push_str(&format!("<{}>", Rejected(inner)));
                }
                out.push(quote);
                rest = &after[end + quote.len_utf8()..];
            }
            None => {
                out.push_str("<…>");
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// A setting, flag or enum name: short, lower-case ASCII, digits, `_` and `-`.
fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 24
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_BODY: &str =
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKjMzEfYyjiWA4R4";

    #[test]
    fn describes_without_showing() {
        let shown = Rejected(KEY_BODY).to_string();
        assert!(!shown.contains("MIIE"), "{shown}");
        assert!(shown.contains("77 characters"), "{shown}");
        assert!(shown.contains("base64"), "{shown}");
        let pem = format!("-----BEGIN PRIVATE KEY-----\n{KEY_BODY}\n-----END PRIVATE KEY-----");
        assert!(Rejected(&pem).to_string().contains("PEM"));
        let apiv3 = Rejected("abcdefghijklmnopqrstuvwxyzABCDEF").to_string();
        assert!(
            apiv3.contains("APIv3 key") && !apiv3.contains("abcdefgh"),
            "{apiv3}"
        );
        assert_eq!(Rejected("").to_string(), "an empty value");
    }

    #[test]
    fn quoted_runs_are_described_names_kept() {
        let serde = format!(
            "unknown variant `{KEY_BODY}`, expected one of `certificate`, `public_key` at line 1"
        );
        let shown = redact_quoted(&serde);
        assert!(!shown.contains("MIIE"), "{shown}");
        assert!(shown.contains("`certificate`") && shown.contains("`public_key`"));
        let apiv3 = "invalid type: string \"abcdefghijklmnopqrstuvwxyzABCDEF\", expected u32";
        let shown = redact_quoted(apiv3);
        assert!(!shown.contains("abcdefghijklmnop"), "{shown}");
        let clap = "invalid value 'Abc123' for '--timeout <SECONDS>'";
        let shown = redact_quoted(clap);
        assert!(!shown.contains("Abc123"), "{shown}");
        assert!(redact_quoted("unclosed \"MIIEvQIBADANBgkq").ends_with("\"<…>"));
    }
}

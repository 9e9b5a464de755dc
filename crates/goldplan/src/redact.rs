//! How a value the caller gave appears in a message once it has failed validation: never
//! itself, only its length and a harmless hint at what it looks like.
//!
//! People paste keys into the wrong variable (an environment variable meant for the mode, a
//! flag meant for the merchant id), and an error that quoted the value back would print the key
//! into a terminal, a log or a CI transcript. So a rejected value is described, not shown; the
//! description still tells the user which mistake they made ("looks like PEM", "the length of
//! an APIv3 key").

use std::fmt;

/// The marker that tells PEM text from a path (and a key from a harmless value). Stated here,
/// the lowest module that needs it, so that describing a value needs nothing of credentials.
pub const PEM_MARKER: &str = "-----BEGIN";

/// Length of an APIv3 key in bytes: the shape a description points out.
pub const APIV3_KEY_LEN: usize = 32;

/// A rejected value, described without its content: `Rejected(value).to_string()` gives e.g.
/// `a value of 1704 characters, not shown (it looks like PEM text)`.
#[derive(Clone, Copy)]
pub struct Rejected<'a>(pub &'a str);

impl Rejected<'_> {
    /// What the value looks like, when that helps the user see their mistake.
    fn hint(&self) -> Option<&'static str> {
        let text = self.0;
        let chars = text.chars().count();
        if text.contains(PEM_MARKER) {
            Some("it looks like PEM text")
        } else if text.trim_start().starts_with('{') {
            Some("it looks like JSON")
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

/// The labels of standard PEM blocks (RFC 7468 and OpenSSL's legacy ones): naming the one a
/// user passed ("found `CERTIFICATE`") tells them which file they picked up.
const KNOWN_PEM_LABELS: [&str; 12] = [
    "CERTIFICATE",
    "TRUSTED CERTIFICATE",
    "CERTIFICATE REQUEST",
    "X509 CRL",
    "PUBLIC KEY",
    "RSA PUBLIC KEY",
    "PRIVATE KEY",
    "RSA PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY",
    "EC PRIVATE KEY",
    "EC PARAMETERS",
    "PKCS7",
];

/// The label of a PEM block that was not the one expected, for a message: a standard label is
/// named; any other is described like a [`Rejected`] value, because the label is part of what
/// the user pasted and a mangled block can carry key material on its `BEGIN` line.
#[derive(Clone, Copy)]
pub struct PemLabel<'a>(pub &'a str);

impl fmt::Display for PemLabel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if KNOWN_PEM_LABELS.contains(&self.0) {
            write!(f, "`{}`", self.0)
        } else {
            write!(
                f,
                "a label that is not a standard one ({})",
                Rejected(self.0)
            )
        }
    }
}

/// A message of a parser we do not control (serde, clap) without the values it quotes.
///
/// serde's messages have known shapes: `invalid type: <value>, expected <what>` (and `invalid
/// value:`), ``unknown variant `<value>`, expected …``, ``unknown field `<name>`, …``, then
/// ` at line L column C`. The value of the first three is replaced by a description, and the
/// rest kept: what was expected and where is what makes the message useful. Any other message
/// has each quoted run — between `"`, `'` or `` ` `` — replaced by its description, except the
/// names of settings and enum values (lower-case ASCII words such as `max_attempts`), which
/// never hold a secret.
pub fn redact_quoted(message: &str) -> String {
    let (body, position) = split_position(message);
    let mut out = String::with_capacity(body.len().min(512) + position.len());
    if let Some(kind) = ["invalid type: ", "invalid value: "]
        .into_iter()
        .find(|kind| body.starts_with(kind))
    {
        // serde appends what it expected after the value: the last occurrence is serde's.
        let expected = body.rfind(", expected ").map_or("", |at| &body[at..]);
        out.push_str(kind);
        out.push_str("a value that is not shown");
        out.push_str(expected);
    } else if let Some(rest) = body.strip_prefix("unknown variant `") {
        let expected = rest.rfind("`, expected ").map_or("", |at| &rest[at + 1..]);
        out.push_str("unknown variant (a value that is not shown)");
        out.push_str(expected);
    } else if let Some(rest) = body.strip_prefix("unknown field `") {
        let end = rest
            .rfind("`, expected ")
            .or_else(|| rest.rfind("`, there are no"));
        let (name, expected) = end.map_or((rest, ""), |at| (&rest[..at], &rest[at + 1..]));
        if is_name(name) {
            out.push_str(&format!("unknown field `{name}`"));
        } else {
            out.push_str(&format!("unknown field ({})", Rejected(name)));
        }
        out.push_str(expected);
    } else {
        out.push_str(&redact_runs(body));
    }
    out.push_str(position);
    out
}

/// `(message, " at line L column C")`, or the whole message and `""`.
fn split_position(message: &str) -> (&str, &str) {
    match message.rfind(" at line ") {
        Some(at)
            if message[at + 9..]
                .bytes()
                .all(|b| b.is_ascii_digit() || b" column".contains(&b)) =>
        {
            message.split_at(at)
        }
        _ => (message, ""),
    }
}

/// Every quoted run described, names kept. Inside `"…"` a backslash escapes the next
/// character (serde writes strings as Rust's `{:?}` does), so `\"` does not end the run.
fn redact_runs(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(512));
    let mut rest = message;
    while let Some(start) = rest.find(['"', '\'', '`']) {
        let quote = rest[start..].chars().next().unwrap_or('"');
        out.push_str(&rest[..start + quote.len_utf8()]);
        let after = &rest[start + quote.len_utf8()..];
        match closing_quote(after, quote) {
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

/// Where the run opened by `quote` ends in `text`, skipping backslash escapes inside `"`.
fn closing_quote(text: &str, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (at, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' && quote == '"' {
            escaped = true;
        } else if c == quote {
            return Some(at);
        }
    }
    None
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
        // The armour is assembled so that no key header is spelt out in the sources.
        let label = ["PRIVATE", "KEY"].join(" ");
        let pem = format!("-----BEGIN {label}-----\n{KEY_BODY}\n-----END {label}-----");
        assert!(Rejected(&pem).to_string().contains("PEM"));
        let apiv3 = Rejected("abcdefghijklmnopqrstuvwxyzABCDEF").to_string();
        assert!(
            apiv3.contains("APIv3 key") && !apiv3.contains("abcdefgh"),
            "{apiv3}"
        );
        assert_eq!(Rejected("").to_string(), "an empty value");
        assert!(
            Rejected(r#"{"mchid":"1"}"#)
                .to_string()
                .ends_with("(it looks like JSON)")
        );
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

    #[test]
    fn quotes_inside_a_value_do_not_end_its_redaction() {
        let secret = "0123456789abcdefghijklmnopqrstuv";
        for text in [
            format!(r#"{{"max_attempts": "x\"{secret}"}}"#),
            format!(r#"{{"max_attempts": "`{secret}`'{secret}'"}}"#),
            format!(r#"{{"mode": "x`, expected {secret}"}}"#),
            format!(r#"{{"{secret}`x": 1}}"#),
        ] {
            #[derive(Debug, serde::Deserialize)]
            #[serde(rename_all = "snake_case")]
            enum Mode {
                Certificate,
            }
            #[derive(Debug, serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            #[allow(dead_code)]
            struct Config {
                max_attempts: Option<u32>,
                mode: Option<Mode>,
            }
            let e = serde_json::from_str::<Config>(&text)
                .unwrap_err()
                .to_string();
            let shown = redact_quoted(&e);
            assert!(!shown.contains("0123456789abcdef"), "{text} → {shown}");
            assert!(shown.contains("line 1"), "{shown}");
        }
        let shown = redact_quoted("unknown field `max_atempts`, expected one of `max_attempts`");
        assert!(
            shown.starts_with("unknown field `max_atempts`, expected"),
            "{shown}"
        );
    }
}

//! Text received from the network (error messages, codes, Request-IDs, header values), made
//! safe to show in a message, a log line or a terminal: escaped and bounded.

use std::fmt;

/// Text received from the network, shown in a message: control characters (CR, LF, ESC, NUL,
/// ...), and the Unicode marks that reorder or hide text, are written as `\u{…}` escapes, and
/// at most `max` characters are shown (then `…`). What the SDK itself writes is never escaped.
#[derive(Clone, Copy)]
pub struct Untrusted<'a>(pub &'a str, pub usize);

impl fmt::Display for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write as _;
        for (shown, c) in self.0.chars().enumerate() {
            if shown >= self.1 {
                return f.write_char('…');
            }
            if needs_escape(c) {
                write!(f, "{}", c.escape_unicode())?;
            } else {
                f.write_char(c)?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// Whether `c` may change how a terminal or log viewer shows the surrounding text.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // Bidirectional overrides and isolates, zero-width and line/paragraph separators.
            '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
        )
}

/// [`Untrusted`] as an owned string: `text` escaped and cut to `max` characters.
pub fn escape_untrusted(text: &str, max: usize) -> String {
    Untrusted(text, max).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_reordering_marks_are_escaped_and_length_is_bounded() {
        assert_eq!(
            escape_untrusted("a\r\nb\u{202E}c", 100),
            "a\\u{d}\\u{a}b\\u{202e}c"
        );
        assert_eq!(escape_untrusted("abcdef", 3), "abc…");
        assert_eq!(format!("{:?}", Untrusted("x\u{1b}", 10)), "\"x\\u{1b}\"");
    }
}

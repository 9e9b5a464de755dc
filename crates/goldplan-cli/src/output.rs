//! Human-readable or JSON output, and the documented exit codes.

use goldplan::{Error, ErrorFamily};
use serde_json::{Value, json};

/// Exit codes (documented in the README and `goldplan --help`).
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Any failure not listed below.
    pub const FAILURE: u8 = 1;
    /// Bad arguments or configuration.
    pub const USAGE: u8 = 2;
    /// WeChat Pay answered with an error status.
    pub const API: u8 = 3;
    /// A signature, certificate, clock, decryption or check-code verification failed.
    pub const VERIFICATION: u8 = 4;
    /// The network failed or timed out.
    pub const NETWORK: u8 = 5;
    /// `doctor` found at least one problem.
    pub const DOCTOR: u8 = 6;
    /// `receipt test` found a rule the receipt page breaks.
    pub const RECEIPT: u8 = 7;
}

/// The exit code for an SDK error, decided by the core's error family (the same grouping as
/// the bindings' error classes).
pub fn exit_code(error: &Error) -> u8 {
    match error.kind().family() {
        ErrorFamily::Configuration | ErrorFamily::InvalidInput => exit::USAGE,
        ErrorFamily::Api => exit::API,
        ErrorFamily::Signature
        | ErrorFamily::Decryption
        | ErrorFamily::Certificate
        | ErrorFamily::Replay => exit::VERIFICATION,
        ErrorFamily::Transport => exit::NETWORK,
        _ => exit::FAILURE,
    }
}

/// The JSON form of an error: `{"ok": false, "error": <the core's error report>}`.
pub fn error_json(error: &Error) -> Value {
    json!({"ok": false, "error": error.report()})
}

/// Prints a step or a result.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    /// Machine-readable output.
    pub json: bool,
}

impl Out {
    /// One human line (suppressed in JSON mode, where the final document says it all).
    pub fn line(&self, text: impl AsRef<str>) {
        if !self.json {
            println!("{}", text.as_ref());
        }
    }

    /// The final result document in JSON mode.
    pub fn document(&self, value: &Value) {
        if self.json {
            println!("{value}");
        }
    }
}

//! Human-readable or JSON output, and the documented exit codes.

use goldplan::{Error, ErrorKind};
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
}

/// The exit code for an SDK error.
pub fn exit_code(error: &Error) -> u8 {
    let kind = error.kind();
    if kind.is_verification_failure() {
        return exit::VERIFICATION;
    }
    match kind {
        ErrorKind::Configuration | ErrorKind::InvalidInput => exit::USAGE,
        ErrorKind::Api | ErrorKind::NoPlatformCertificate => exit::API,
        ErrorKind::Decryption | ErrorKind::Certificate | ErrorKind::Replay => exit::VERIFICATION,
        ErrorKind::Transport | ErrorKind::Timeout => exit::NETWORK,
        _ => exit::FAILURE,
    }
}

/// The JSON form of an error.
pub fn error_json(error: &Error) -> Value {
    let mut v = json!({
        "ok": false,
        "error": {
            "kind": error.kind().as_str(),
            "message": error.to_string(),
            "retryable": error.is_retryable(),
            "request_id": error.request_id(),
        }
    });
    if let Some(api) = error.api() {
        v["error"]["status"] = json!(api.status);
        v["error"]["code"] = json!(api.code);
        v["error"]["api_message"] = json!(api.message);
        v["error"]["detail"] = api.detail.clone().unwrap_or(Value::Null);
    }
    v
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

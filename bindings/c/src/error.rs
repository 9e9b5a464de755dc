//! The one place where errors become C: the `goldplan_status` codes (one per family of the
//! core's error report, plus the boundary's own), the per-thread last error, and the guard
//! every export runs in (it also catches panics).

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};

use goldplan::{Error, ErrorFamily, ErrorReport};

/// The result of every `goldplan_*` function. `GOLDPLAN_STATUS_OK` is zero; every other code
/// is a family of errors (the `family` of the error report) or a misuse of the C interface.
/// Details of the failure are in the calling thread's last error
/// (`goldplan_last_error_report`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GoldplanStatus {
    /// Success; out-parameters were written.
    Ok = 0,
    /// The configuration is unusable (family `configuration`).
    Configuration = 1,
    /// An argument is invalid (family `invalid_input`).
    InvalidInput = 2,
    /// A response or callback is not authentic (family `signature`).
    Signature = 3,
    /// Producing a request signature failed (family `signing`).
    Signing = 4,
    /// Encrypting a sensitive field failed (family `encryption`).
    Encryption = 5,
    /// Decrypting a callback, certificate or sensitive field failed (family `decryption`).
    Decryption = 6,
    /// No usable platform certificate (family `certificate`).
    Certificate = 7,
    /// A callback was already processed (family `replay`).
    Replay = 8,
    /// A payload could not be decoded (family `decode`).
    Decode = 9,
    /// WeChat Pay answered with an error status; the report has `status` and `code`
    /// (family `api`).
    Api = 10,
    /// The HTTP exchange failed or timed out (family `transport`).
    Transport = 11,
    /// A bug of this library, such as a caught panic (family `internal`).
    Internal = 12,
    /// A required pointer argument was NULL (the report's kind is `invalid_input`).
    NullPointer = 13,
    /// A string argument is not UTF-8 (the report's kind is `invalid_input`).
    InvalidUtf8 = 14,
    /// A handle is not one this library handed out and has not freed yet: a double free,
    /// a use after free, or a handle of another type (the report's kind is `invalid_input`).
    InvalidHandle = 15,
}

impl GoldplanStatus {
    /// The status of an error family. Every family has its own code; a family added to the
    /// core later maps to `Internal` until it gets one (the unit test below lists them all).
    pub(crate) fn of_family(family: ErrorFamily) -> GoldplanStatus {
        match family {
            ErrorFamily::Configuration => GoldplanStatus::Configuration,
            ErrorFamily::InvalidInput => GoldplanStatus::InvalidInput,
            ErrorFamily::Signature => GoldplanStatus::Signature,
            ErrorFamily::Signing => GoldplanStatus::Signing,
            ErrorFamily::Encryption => GoldplanStatus::Encryption,
            ErrorFamily::Decryption => GoldplanStatus::Decryption,
            ErrorFamily::Certificate => GoldplanStatus::Certificate,
            ErrorFamily::Replay => GoldplanStatus::Replay,
            ErrorFamily::Decode => GoldplanStatus::Decode,
            ErrorFamily::Api => GoldplanStatus::Api,
            ErrorFamily::Transport => GoldplanStatus::Transport,
            ErrorFamily::Internal => GoldplanStatus::Internal,
            _ => GoldplanStatus::Internal,
        }
    }
}

/// A failure at the boundary: an error of the core, or a misuse of the C interface.
#[derive(Debug)]
pub(crate) enum FfiError {
    /// An error of the core, reported as is.
    Core(Error),
    /// A NULL pointer where one is required; names the argument.
    Null(&'static str),
    /// Text that is not UTF-8; names the argument.
    Utf8(&'static str),
    /// A handle this library does not know (freed, foreign or of another type).
    Handle(&'static str),
}

impl From<Error> for FfiError {
    fn from(e: Error) -> FfiError {
        FfiError::Core(e)
    }
}

/// Shorthand for the results of the boundary's helpers.
pub(crate) type FfiResult<T> = Result<T, FfiError>;

impl FfiError {
    fn status_and_report(&self) -> (GoldplanStatus, ErrorReport) {
        match self {
            FfiError::Core(e) => {
                let report = e.report();
                (GoldplanStatus::of_family(report.family), report)
            }
            FfiError::Null(name) => (
                GoldplanStatus::NullPointer,
                Error::InvalidInput(format!("{name} is NULL")).report(),
            ),
            FfiError::Utf8(name) => (
                GoldplanStatus::InvalidUtf8,
                Error::InvalidInput(format!("{name} is not valid UTF-8")).report(),
            ),
            FfiError::Handle(name) => (
                GoldplanStatus::InvalidHandle,
                Error::InvalidInput(format!(
                    "{name} is not a live handle of its type (freed twice, used after free, or \
                     not from this library)"
                ))
                .report(),
            ),
        }
    }
}

/// The last failure of a thread, kept as the text handed out by the accessors.
struct LastError {
    report_json: String,
    message: String,
}

thread_local! {
    static LAST_ERROR: RefCell<Option<LastError>> = const { RefCell::new(None) };
}

fn set_last_error(error: &FfiError) -> GoldplanStatus {
    let (status, report) = error.status_and_report();
    let last = LastError {
        report_json: report.to_json(),
        message: report.message,
    };
    // `try_with` fails only while the thread is being torn down; the status still says what
    // went wrong then.
    let _ = LAST_ERROR.try_with(|cell| {
        if let Ok(mut slot) = cell.try_borrow_mut() {
            *slot = Some(last);
        }
    });
    status
}

fn clear_last_error() {
    let _ = LAST_ERROR.try_with(|cell| {
        if let Ok(mut slot) = cell.try_borrow_mut() {
            *slot = None;
        }
    });
}

/// The last error's report JSON and message, when this thread has one.
pub(crate) fn last_error() -> Option<(String, String)> {
    LAST_ERROR
        .try_with(|cell| {
            cell.try_borrow().ok().and_then(|slot| {
                slot.as_ref()
                    .map(|e| (e.report_json.clone(), e.message.clone()))
            })
        })
        .ok()
        .flatten()
}

/// The text of a panic payload (panics carry `&str` or `String`).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// Runs the body of an export: clears the thread's last error, runs `body` with panics caught,
/// and turns its outcome into a status (recording the last error on failure). Every export
/// that can fail goes through here, so no panic unwinds into C.
pub(crate) fn guard(body: impl FnOnce() -> FfiResult<()>) -> GoldplanStatus {
    clear_last_error();
    run(body)
}

/// Like [`guard`] but leaves the last error in place: for the functions that read it and the
/// `_free` functions, so that freeing a result does not erase the error a caller is about to
/// read.
pub(crate) fn guard_keep(body: impl FnOnce() -> FfiResult<()>) -> GoldplanStatus {
    run(body)
}

fn run(body: impl FnOnce() -> FfiResult<()>) -> GoldplanStatus {
    // AssertUnwindSafe: after a panic nothing of the body's state is used again; shared state
    // (the handle registry) tolerates poisoning.
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => GoldplanStatus::Ok,
        Ok(Err(error)) => set_last_error(&error),
        Err(payload) => set_last_error(&FfiError::Core(Error::Internal(format!(
            "goldplan panicked (a bug; please report it): {}",
            panic_message(&*payload)
        )))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_family_has_its_own_status() {
        let mut seen = HashSet::new();
        for &family in ErrorFamily::ALL {
            let status = GoldplanStatus::of_family(family);
            assert!(seen.insert(status), "{family} shares a status");
            assert!(
                status != GoldplanStatus::Internal || family == ErrorFamily::Internal,
                "{family} has no status of its own"
            );
        }
        assert_eq!(seen.len(), ErrorFamily::ALL.len());
    }

    #[test]
    fn a_panic_becomes_an_internal_error_and_success_clears_it() {
        let status = guard(|| panic!("boom"));
        assert_eq!(status, GoldplanStatus::Internal);
        let (report, message) = last_error().unwrap();
        assert!(message.contains("boom"), "{message}");
        let v: serde_json::Value = serde_json::from_str(&report).unwrap();
        assert_eq!(v["kind"], "internal");
        assert_eq!(guard(|| Ok(())), GoldplanStatus::Ok);
        assert!(last_error().is_none());
    }

    #[test]
    fn boundary_misuse_is_invalid_input_with_its_own_status() {
        assert_eq!(
            guard(|| Err(FfiError::Null("config_json"))),
            GoldplanStatus::NullPointer
        );
        let (report, message) = last_error().unwrap();
        assert!(message.contains("config_json is NULL"), "{message}");
        assert!(report.contains(r#""family":"invalid_input""#), "{report}");
    }
}

//! # libgoldplan — the C library of goldplan
//!
//! The C ABI over the goldplan core, for C, and for PHP (FFI or a native extension) and Java
//! (JNA) through C. The header `include/goldplan.h` is generated from this crate by cbindgen
//! and committed; `tests/header.rs` fails when it drifts.
//!
//! ## Conventions (also in the header)
//!
//! * Every symbol starts with `goldplan_`. Handles are opaque (`goldplan_client`,
//!   `goldplan_response`, `goldplan_signer`, `goldplan_verifier`, `goldplan_replay_guard`),
//!   created by `_new` (or by a
//!   call) and released by the matching `_free`; `_free(NULL)` is a no-op. A handle value is
//!   never issued twice, so a freed handle stays invalid: using it or freeing it again is
//!   reported as `GOLDPLAN_STATUS_INVALID_HANDLE` rather than corrupting memory or reaching a
//!   newer object. Freeing a handle while other threads are calling with it is safe: those
//!   calls finish with it, later ones are refused.
//! * Every function returns a `goldplan_status` (`GOLDPLAN_STATUS_OK` = 0; the others are the
//!   families of the core's error report plus NULL pointer, invalid UTF-8 and invalid handle)
//!   and writes results through out-pointers, **only on success**.
//! * On failure the calling thread's last error holds the core's error report (JSON: `kind`,
//!   `family`, `message`, `request_id`, `retryable`, and for API errors `status`, `code`,
//!   `api_message`, `detail`); it never contains a secret. Every call clears it first.
//! * Strings in are UTF-8 with an explicit length (no terminator needed); strings and bytes out
//!   come with their length, are NUL-terminated for convenience, and are freed with
//!   `goldplan_string_free` / `goldplan_bytes_free` (never with `free()`), which also wipe them.
//! * Configuration, operation arguments and results are JSON with the core's field names.
//! * Each registry operation has one C name: `goldplan_client_<name>` for what a client runs
//!   (typed functions generated from the registry into `operations.rs`, besides the generic
//!   `goldplan_client_call`), `goldplan_<name>` for the helpers that need no client,
//!   `goldplan_signer_<name>` / `goldplan_verifier_<name>` for their objects' methods.
//! * No panic crosses the boundary: it becomes `GOLDPLAN_STATUS_INTERNAL`.
//! * A client handle is thread-safe, and survives `fork()` (the child gets a new runtime and
//!   new connections on first use), even a `fork()` taken while other threads are inside
//!   calls (the handle registry's locks are never copied held: see `memory`).

// The C boundary needs `unsafe`; each block is small and says why it is sound.
#![deny(unsafe_op_in_unsafe_fn)]

use std::os::raw::c_char;

mod args;
pub mod client;
pub mod error;
mod memory;
pub mod operations;
pub mod protocol;
pub mod replay;

use error::GoldplanStatus;

use error::{guard, guard_keep};
use memory::{free_buffer, out_arg, write_out, write_string};

/// The library version, NUL-terminated, for `goldplan_version`.
const VERSION_NUL: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The library version (e.g. `"0.1.0"`). The string is static: never free it.
///
/// # Safety
/// `out` and `out_len` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_version(
    out: *mut *const c_char,
    out_len: *mut usize,
) -> GoldplanStatus {
    guard(|| {
        let (out, out_len) = (out_arg(out, "out")?, out_arg(out_len, "out_len")?);
        // SAFETY: both out-pointers were checked; the string is 'static.
        unsafe {
            write_out(out, VERSION_NUL.as_ptr().cast::<c_char>());
            write_out(out_len, VERSION_NUL.len() - 1);
        }
        Ok(())
    })
}

/// Frees (and wipes) a string returned by this library. NULL is a no-op. A pointer that is not
/// a live string or buffer of this library (one freed already, one inside a string, a foreign
/// one) is reported (`GOLDPLAN_STATUS_INVALID_HANDLE`) and nothing is touched through it.
///
/// # Safety
/// `s` must be NULL or a string from this library not freed yet. The pointer is the text itself,
/// so once a later string is given the same address a stale pointer would free that one: the
/// refusal above catches mistakes, it does not make freeing twice safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_string_free(s: *mut c_char) -> GoldplanStatus {
    guard_keep(|| free_buffer(s.cast::<u8>(), "string"))
}

/// Frees (and wipes) bytes returned by this library, and refuses what is not a live buffer,
/// like `goldplan_string_free`. NULL is a no-op.
///
/// # Safety
/// `b` must be NULL or a buffer from this library not freed yet (see `goldplan_string_free`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_bytes_free(b: *mut u8) -> GoldplanStatus {
    guard_keep(|| free_buffer(b, "bytes"))
}

/// The calling thread's last error as the core's JSON error report (`kind`, `family`,
/// `message`, `request_id`, `retryable`, and for API errors `status`, `code`, `api_message`,
/// `detail`, …), or `null` when the last call succeeded. Free it with `goldplan_string_free`.
/// Reading it does not clear it.
///
/// # Safety
/// `out` and `out_len` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_last_error_report(
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> GoldplanStatus {
    guard_keep(|| {
        let (out, out_len) = (out_arg(out, "out")?, out_arg(out_len, "out_len")?);
        let report = error::last_error().map_or_else(|| "null".to_owned(), |(json, _)| json);
        // SAFETY: both out-pointers were checked.
        unsafe { write_string(out, out_len, report.as_bytes()) };
        Ok(())
    })
}

/// The calling thread's last error message (empty when the last call succeeded). Free it with
/// `goldplan_string_free`. Reading it does not clear it.
///
/// # Safety
/// `out` and `out_len` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_last_error_message(
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> GoldplanStatus {
    guard_keep(|| {
        let (out, out_len) = (out_arg(out, "out")?, out_arg(out_len, "out_len")?);
        let message = error::last_error().map(|(_, m)| m).unwrap_or_default();
        // SAFETY: both out-pointers were checked.
        unsafe { write_string(out, out_len, message.as_bytes()) };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_version_is_the_core_version() {
        assert_eq!(
            super::VERSION_NUL.trim_end_matches('\0'),
            goldplan::client::VERSION
        );
    }
}

//! Replay guards for callbacks: `goldplan_replay_guard` (the core's bounded in-memory guard as a
//! handle) and `goldplan_replay_hook` (the caller's own store, asked through a function
//! pointer), consulted by the `_parse_notification_with_guard` functions.

use std::ffi::c_void;
use std::fmt;
use std::os::raw::c_char;
use std::sync::Arc;

use goldplan::notification::{MemoryReplayGuard, ReplayGuard};

use crate::error::{FfiResult, GoldplanStatus, guard, guard_keep};
use crate::memory::{Handle, borrow, out_arg, register, release, str_arg, write_out};

/// The ids of the last `capacity` callbacks recorded as processed, in memory (the core's
/// `MemoryReplayGuard`). Thread-safe; one guard serves one process (a fleet asks a shared
/// store through a `goldplan_replay_hook` instead).
pub struct GoldplanReplayGuard {
    guard: Arc<MemoryReplayGuard>,
}

impl Handle for GoldplanReplayGuard {}

/// The caller's replay check: returns true when the notification `notification_id` (UTF-8,
/// `notification_id_len` bytes, NUL-terminated for convenience, valid only during the call)
/// was already **processed to completion**, false otherwise. It gets the `hook_context` given
/// with it, runs on the calling thread during the parse, and is asked only for authentic,
/// decrypted callbacks. Answer true only for ids whose processing completed (record them after
/// your handler succeeded): a replay is acknowledged with success, so a callback whose first
/// processing failed would otherwise be lost.
pub type GoldplanReplayHook = Option<
    unsafe extern "C" fn(
        context: *mut c_void,
        notification_id: *const c_char,
        notification_id_len: usize,
    ) -> bool,
>;

/// What one parse consults: the built-in guard, the caller's hook, or both (a duplicate when
/// either says so).
struct CallGuard {
    memory: Option<Arc<MemoryReplayGuard>>,
    hook: GoldplanReplayHook,
    context: *mut c_void,
}

// SAFETY: a `CallGuard` lives only inside one `_with_guard` call and is used on the calling
// thread (the core's future is driven there by `block_on`); the context pointer is the
// caller's, handed back to the caller's hook on that thread, never dereferenced here.
unsafe impl Send for CallGuard {}
// SAFETY: as for `Send`: no access from another thread happens.
unsafe impl Sync for CallGuard {}

impl fmt::Debug for CallGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallGuard")
            .field("memory", &self.memory)
            .field("hook", &self.hook.is_some())
            .finish()
    }
}

impl ReplayGuard for CallGuard {
    fn is_duplicate(&self, notification_id: &str) -> bool {
        if self
            .memory
            .as_ref()
            .is_some_and(|m| m.is_duplicate(notification_id))
        {
            return true;
        }
        let Some(hook) = self.hook else {
            return false;
        };
        let mut text = Vec::with_capacity(notification_id.len() + 1);
        text.extend_from_slice(notification_id.as_bytes());
        text.push(0);
        // SAFETY: the caller of the `_with_guard` function promised that `hook` may be called
        // with `context` during the call; the id is valid and NUL-terminated for its duration.
        unsafe {
            hook(
                self.context,
                text.as_ptr().cast::<c_char>(),
                notification_id.len(),
            )
        }
    }
}

/// The guard a `_with_guard` call passes to the core: `None` when neither a guard nor a hook
/// was given.
pub(crate) fn call_guard(
    guard: *const GoldplanReplayGuard,
    hook: GoldplanReplayHook,
    context: *mut c_void,
) -> FfiResult<Option<Arc<dyn ReplayGuard>>> {
    let memory = if guard.is_null() {
        None
    } else {
        Some(borrow(guard, "replay_guard")?.guard.clone())
    };
    if memory.is_none() && hook.is_none() {
        return Ok(None);
    }
    Ok(Some(Arc::new(CallGuard {
        memory,
        hook,
        context,
    })))
}

/// Creates an in-memory replay guard remembering the ids of the last `capacity` callbacks
/// recorded with `goldplan_replay_guard_record_processed` (memory stays bounded: the oldest id
/// is forgotten first). `capacity` 0 is a configuration error.
///
/// # Safety
/// `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_replay_guard_new(
    capacity: usize,
    out: *mut *mut GoldplanReplayGuard,
) -> GoldplanStatus {
    guard(|| {
        let out = out_arg(out, "out")?;
        let handle = GoldplanReplayGuard {
            guard: Arc::new(MemoryReplayGuard::new(capacity)?),
        };
        // SAFETY: `out` was checked.
        unsafe { write_out(out, register(handle)?) };
        Ok(())
    })
}

/// Records that the callback `notification_id` (its `id`) was processed to completion: later
/// parses of it with this guard return `GOLDPLAN_STATUS_REPLAY`. Call it after your handler
/// succeeded, never before. An id longer than 256 bytes is refused
/// (`GOLDPLAN_STATUS_INVALID_INPUT`).
///
/// # Safety
/// `notification_id` must point to `notification_id_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_replay_guard_record_processed(
    replay_guard: *const GoldplanReplayGuard,
    notification_id: *const c_char,
    notification_id_len: usize,
) -> GoldplanStatus {
    guard(|| {
        let replay_guard = borrow(replay_guard, "replay_guard")?;
        // SAFETY: caller's contract.
        let id = unsafe { str_arg(notification_id, notification_id_len, "notification_id") }?;
        replay_guard.guard.record_processed(id)?;
        Ok(())
    })
}

/// Whether `notification_id` is recorded as processed; `*processed` is written on success.
///
/// # Safety
/// `notification_id` must point to `notification_id_len` readable bytes; `processed` must be
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_replay_guard_is_processed(
    replay_guard: *const GoldplanReplayGuard,
    notification_id: *const c_char,
    notification_id_len: usize,
    processed: *mut bool,
) -> GoldplanStatus {
    guard(|| {
        let processed = out_arg(processed, "processed")?;
        let replay_guard = borrow(replay_guard, "replay_guard")?;
        // SAFETY: caller's contract.
        let id = unsafe { str_arg(notification_id, notification_id_len, "notification_id") }?;
        let seen = replay_guard.guard.is_duplicate(id);
        // SAFETY: `processed` was checked.
        unsafe { write_out(processed, seen) };
        Ok(())
    })
}

/// Frees a replay guard, like `goldplan_client_free`: NULL is a no-op, a freed handle is
/// reported (`GOLDPLAN_STATUS_INVALID_HANDLE`) and frees nothing, parses in flight on other
/// threads finish with it and later calls are refused.
#[unsafe(no_mangle)]
pub extern "C" fn goldplan_replay_guard_free(
    replay_guard: *mut GoldplanReplayGuard,
) -> GoldplanStatus {
    guard_keep(|| release(replay_guard, "replay_guard"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    unsafe extern "C" fn says_seen(context: *mut c_void, id: *const c_char, len: usize) -> bool {
        // SAFETY: the tests pass a `Vec<String>` as the context and the guard a valid id.
        let (asked, id) = unsafe {
            (
                &mut *context.cast::<Vec<String>>(),
                std::slice::from_raw_parts(id.cast::<u8>(), len + 1),
            )
        };
        assert_eq!(id[len], 0, "the id is NUL-terminated");
        let id = String::from_utf8(id[..len].to_vec()).unwrap();
        let seen = id == "EV-seen";
        asked.push(id);
        seen
    }

    #[test]
    fn a_call_guard_asks_the_memory_guard_then_the_hook() {
        assert!(
            call_guard(std::ptr::null(), None, std::ptr::null_mut())
                .unwrap()
                .is_none()
        );
        let mut handle = std::ptr::null_mut();
        // SAFETY: `handle` is writable.
        assert_eq!(
            unsafe { goldplan_replay_guard_new(4, &mut handle) },
            GoldplanStatus::Ok
        );
        let id = "EV-recorded";
        // SAFETY: the id is `id.len()` readable bytes.
        let status =
            unsafe { goldplan_replay_guard_record_processed(handle, id.as_ptr().cast(), id.len()) };
        assert_eq!(status, GoldplanStatus::Ok);
        let mut asked: Vec<String> = Vec::new();
        let both = call_guard(
            handle,
            Some(says_seen),
            std::ptr::from_mut(&mut asked).cast(),
        )
        .unwrap()
        .unwrap();
        assert!(both.is_duplicate("EV-recorded"));
        assert!(both.is_duplicate("EV-seen"));
        assert!(!both.is_duplicate("EV-new"));
        drop(both);
        assert_eq!(
            asked,
            ["EV-seen", "EV-new"],
            "the recorded id needs no hook"
        );
        assert_eq!(goldplan_replay_guard_free(handle), GoldplanStatus::Ok);
        assert_eq!(
            goldplan_replay_guard_free(handle),
            GoldplanStatus::InvalidHandle
        );
        assert!(matches!(
            call_guard(handle, None, std::ptr::null_mut()),
            Err(crate::error::FfiError::Handle(_))
        ));
    }
}

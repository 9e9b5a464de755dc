//! Memory crossing the boundary: reading `(pointer, length)` arguments, handing out strings and
//! byte buffers that `goldplan_string_free` / `goldplan_bytes_free` take back, and the registry
//! of live handles that lets `_free` and every call detect a freed or foreign handle.
//!
//! A handle is not an address: it is an id, never issued twice, that names a reference-counted
//! object in the registry. So a stale handle (freed, or never issued) cannot name an object
//! created later, and a call clones the object's `Arc` under the lock and works after releasing
//! it: a `_free` racing with calls only drops the registry's reference, and the object dies
//! when the last call in flight returns.

use std::any::Any;
use std::collections::BTreeMap;
use std::os::raw::c_char;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use zeroize::Zeroize;

use crate::error::{FfiError, FfiResult};

/// The longest argument accepted, in bytes: far above any real payload (an image upload is at
/// most 2 MiB, 2.7 MiB as base64), and a bound on what a wrong length can make us read.
pub(crate) const MAX_ARG_LEN: usize = 64 * 1024 * 1024;

/// Bytes `[ptr, ptr + len)`; `ptr` may be NULL only when `len` is 0.
///
/// # Safety
/// When `ptr` is not NULL it must point to `len` readable bytes that stay valid and unchanged
/// for the call.
pub(crate) unsafe fn bytes_arg<'a>(
    ptr: *const u8,
    len: usize,
    name: &'static str,
) -> FfiResult<&'a [u8]> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(FfiError::Null(name))
        };
    }
    if len > MAX_ARG_LEN {
        return Err(FfiError::Core(goldplan::Error::InvalidInput(format!(
            "{name} is {len} bytes, more than the {MAX_ARG_LEN}-byte limit"
        ))));
    }
    // SAFETY: `ptr` is not NULL and, per this function's contract, points to `len` readable
    // bytes; `len` is at most 64 MiB, far below `isize::MAX`.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// UTF-8 text `[ptr, ptr + len)` (no terminator needed); `ptr` may be NULL only when `len` is 0.
///
/// # Safety
/// As for [`bytes_arg`].
pub(crate) unsafe fn str_arg<'a>(
    ptr: *const c_char,
    len: usize,
    name: &'static str,
) -> FfiResult<&'a str> {
    // SAFETY: forwarded contract; `c_char` and `u8` have the same size and alignment.
    let bytes = unsafe { bytes_arg(ptr.cast::<u8>(), len, name) }?;
    std::str::from_utf8(bytes).map_err(|_| FfiError::Utf8(name))
}

/// Checks an out-pointer before any work is done, so a call with a NULL out-pointer fails
/// without side effects.
pub(crate) fn out_arg<T>(ptr: *mut T, name: &'static str) -> FfiResult<*mut T> {
    if ptr.is_null() {
        Err(FfiError::Null(name))
    } else {
        Ok(ptr)
    }
}

/// Writes `value` through a checked out-pointer.
///
/// # Safety
/// `ptr` must come from [`out_arg`] and be valid for a write of `T`.
pub(crate) unsafe fn write_out<T>(ptr: *mut T, value: T) {
    // SAFETY: non-NULL (checked by `out_arg`) and writable per the caller's contract; `write`
    // does not drop the old (possibly uninitialised) value.
    unsafe { ptr.write(value) }
}

/// Live buffers handed out by [`alloc_buffer`], by their address, with their allocation's
/// length. A string's pointer is its text, so unlike a handle it cannot carry an id: the map
/// refuses a pointer freed already or never handed out, without reading memory through it, but
/// not a stale pointer whose address a newer buffer has taken (the header asks callers never to
/// free twice).
static BUFFERS: Mutex<BTreeMap<usize, usize>> = Mutex::new(BTreeMap::new());

/// The key of a buffer in [`BUFFERS`]: its address inverted, because leak checkers (valgrind,
/// LeakSanitizer) take any word equal to an address as a reference, and a string C never frees
/// must still be reported as lost.
fn buffer_key(ptr: *const u8) -> usize {
    !ptr.addr()
}

fn buffers() -> MutexGuard<'static, BTreeMap<usize, usize>> {
    fork_safety::linked();
    // Each update is a single insert or remove, so a panic cannot leave the map half-updated
    // and a poisoned lock is still good.
    BUFFERS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Copies `data` into a buffer the caller frees with `goldplan_string_free` or
/// `goldplan_bytes_free`: `data` then a NUL, which lets C print strings directly; the length is
/// still given separately because data may contain NULs.
pub(crate) fn alloc_buffer(data: &[u8]) -> *mut u8 {
    let mut buf = Vec::with_capacity(data.len() + 1);
    buf.extend_from_slice(data);
    buf.push(0);
    // Exact capacity, so `into_boxed_slice` does not reallocate and leave an unwiped copy.
    let boxed = buf.into_boxed_slice();
    let len = boxed.len();
    let ptr = Box::into_raw(boxed).cast::<u8>();
    buffers().insert(buffer_key(ptr), len);
    ptr
}

/// Takes back a buffer of [`alloc_buffer`], wiping it first (buffers may hold decrypted
/// fields). NULL is a no-op; a pointer that is not a live buffer is refused untouched.
pub(crate) fn free_buffer(ptr: *mut u8, name: &'static str) -> FfiResult<()> {
    if ptr.is_null() {
        return Ok(());
    }
    let len = buffers()
        .remove(&buffer_key(ptr))
        .ok_or(FfiError::Handle(name))?;
    // SAFETY: the map held this address, so `alloc_buffer` leaked a boxed slice of `len` bytes
    // starting here, and removing the entry under the lock makes this its only release.
    let mut boxed = unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) };
    boxed.zeroize();
    drop(boxed);
    Ok(())
}

/// Hands out a string: writes the pointer and the length (without the NUL).
///
/// # Safety
/// Both pointers must come from [`out_arg`].
pub(crate) unsafe fn write_string(out: *mut *mut c_char, out_len: *mut usize, data: &[u8]) {
    let ptr = alloc_buffer(data).cast::<c_char>();
    // SAFETY: forwarded contract.
    unsafe {
        write_out(out, ptr);
        write_out(out_len, data.len());
    }
}

/// Hands out bytes: writes the pointer and the length.
///
/// # Safety
/// Both pointers must come from [`out_arg`].
pub(crate) unsafe fn write_bytes(out: *mut *mut u8, out_len: *mut usize, data: &[u8]) {
    let ptr = alloc_buffer(data);
    // SAFETY: forwarded contract.
    unsafe {
        write_out(out, ptr);
        write_out(out_len, data.len());
    }
}

/// A type handed out as an opaque handle. `Any` lets the registry hold every type in one map
/// and refuse a handle passed to a function of another type.
pub(crate) trait Handle: Any + Send + Sync {}

/// Handle values are multiples of this, so they look like aligned pointers to any tool that
/// inspects them and never equal the small sentinels C code keeps in handle variables.
const HANDLE_STRIDE: usize = 16;

/// Live objects by handle value, and the next value to issue.
struct Registry {
    live: BTreeMap<usize, Arc<dyn Any + Send + Sync>>,
    /// Only ever grows, so no value is issued twice; 0 once the values are used up (never, in
    /// practice, on 64 bits).
    next: usize,
}

/// One lock for every handle type: a call holds it only for a map lookup and an `Arc` clone.
/// `fork()` cannot copy it locked into a child: see [`fork_safety`].
static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    live: BTreeMap::new(),
    next: HANDLE_STRIDE,
});

fn registry() -> MutexGuard<'static, Registry> {
    fork_safety::linked();
    // Each update is a single insert or remove (objects are dropped after the lock is
    // released), so a panic cannot leave the registry half-updated and a poisoned lock is still
    // good.
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Keeps `fork()` from copying [`REGISTRY`] or [`BUFFERS`] into a child while another thread of
/// the parent holds it, which would leave it locked forever there (a PHP-FPM or Apache child
/// would hang on its first call).
///
/// `pthread_atfork` handlers do it at the root: just before `fork()` copies the process, the
/// forking thread takes both locks (waiting for the thread holding one to finish its map
/// update, which never takes the other lock or waits on anything else, so this cannot
/// deadlock); just after, the parent and the child each release them. So the child starts with
/// both unlocked and its maps consistent. The guards of std's `Mutex` are kept across the
/// callbacks in a thread-local: `fork()` runs all three callbacks on the forking thread, and the
/// child is a copy of that thread, thread-locals included.
///
/// The handlers are registered while the library is loaded (an initializer in
/// `.init_array`, as C++ static constructors are), before any thread can call it: registering
/// lazily on the first call would let a `fork()` copy a half-finished `Once` into a child,
/// which would then wait on it forever.
mod fork_safety {
    /// Runs when the library is loaded (for a static link, see [`linked`]).
    #[cfg(unix)]
    #[used]
    #[cfg_attr(not(target_vendor = "apple"), unsafe(link_section = ".init_array"))]
    #[cfg_attr(
        target_vendor = "apple",
        unsafe(link_section = "__DATA,__mod_init_func")
    )]
    static REGISTER_AT_LOAD: extern "C" fn() = imp::register;

    /// Ties [`REGISTER_AT_LOAD`] to every use of the locks: a static link takes an object out
    /// of `libgoldplan.a` only when something refers to it, and the initializer must come along
    /// with the locks it protects.
    #[inline(always)]
    pub(super) fn linked() {
        #[cfg(unix)]
        std::hint::black_box(&REGISTER_AT_LOAD);
    }

    #[cfg(unix)]
    pub(super) mod imp {
        use std::cell::RefCell;
        use std::collections::BTreeMap;
        use std::sync::MutexGuard;

        use super::super::{Registry, buffers, registry};

        /// The locks [`prepare`] took, until [`release`] gives them back.
        type Held = (
            MutexGuard<'static, Registry>,
            MutexGuard<'static, BTreeMap<usize, usize>>,
        );

        thread_local! {
            static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
        }

        /// How many times [`prepare`] started, for the test that holds a lock across a fork.
        #[cfg(test)]
        pub(crate) static PREPARED: std::sync::atomic::AtomicUsize =
            std::sync::atomic::AtomicUsize::new(0);

        pub(super) extern "C" fn register() {
            // SAFETY: the three callbacks are plain `extern "C" fn()` that never unwind.
            // Registration fails only when memory is exhausted at load time; there is no one
            // to tell then, and the library still works (only without this protection).
            let _ = unsafe { libc::pthread_atfork(Some(prepare), Some(release), Some(release)) };
        }

        /// Before the copy: the forking thread takes both locks. (They are never held by the
        /// forking thread itself: no code of this library forks or runs C callbacks while
        /// holding one.)
        extern "C" fn prepare() {
            #[cfg(test)]
            PREPARED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let held = (registry(), buffers());
            // If the thread-local is gone (a thread being torn down forks), the guards are
            // dropped here: no protection for that fork, but no deadlock either.
            let _ = HELD.try_with(move |slot| {
                if let Ok(mut slot) = slot.try_borrow_mut() {
                    *slot = Some(held);
                }
            });
        }

        /// After the copy, in the parent and in the child: releases what [`prepare`] took.
        extern "C" fn release() {
            let _ = HELD.try_with(|slot| {
                if let Ok(mut slot) = slot.try_borrow_mut() {
                    drop(slot.take());
                }
            });
        }
    }
}

/// Registers `value` and returns its handle, a value never issued before.
pub(crate) fn register<T: Handle>(value: T) -> FfiResult<*mut T> {
    let object: Arc<dyn Any + Send + Sync> = Arc::new(value);
    let mut registry = registry();
    let handle = registry.next;
    if handle == 0 {
        return Err(FfiError::Core(goldplan::Error::Internal(
            "this process has used up its handle values".into(),
        )));
    }
    registry.next = handle.checked_add(HANDLE_STRIDE).unwrap_or(0);
    registry.live.insert(handle, object);
    Ok(std::ptr::without_provenance_mut(handle))
}

/// The object behind a live handle of type `T`, kept alive for as long as the caller holds the
/// `Arc`, even if another thread frees the handle meanwhile. NULL, freed, foreign and
/// wrong-type handles are errors; the handle is never dereferenced.
pub(crate) fn borrow<T: Handle>(handle: *const T, name: &'static str) -> FfiResult<Arc<T>> {
    if handle.is_null() {
        return Err(FfiError::Null(name));
    }
    // The lock is released at the end of this statement, before any work with the object.
    let object = registry().live.get(&handle.addr()).cloned();
    object
        .and_then(|object| object.downcast::<T>().ok())
        .ok_or(FfiError::Handle(name))
}

/// Frees a live handle of type `T`: calls in flight on other threads keep the object until they
/// return; every later use of the handle is refused. NULL is a no-op; a freed, foreign or
/// wrong-type handle is an error and changes nothing.
pub(crate) fn release<T: Handle>(handle: *mut T, name: &'static str) -> FfiResult<()> {
    if handle.is_null() {
        return Ok(());
    }
    let removed = {
        let mut registry = registry();
        match registry.live.get(&handle.addr()) {
            Some(object) if object.is::<T>() => registry.live.remove(&handle.addr()),
            _ => None,
        }
    };
    // Dropped here, outside the lock: a client's drop can take a while.
    drop(removed.ok_or(FfiError::Handle(name))?);
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Records when it is dropped.
    struct Probe(Arc<AtomicBool>);
    impl Handle for Probe {}
    impl Drop for Probe {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    struct Other;
    impl Handle for Other {}

    fn probe() -> (*mut Probe, Arc<AtomicBool>) {
        let dropped = Arc::new(AtomicBool::new(false));
        (register(Probe(dropped.clone())).unwrap(), dropped)
    }

    #[test]
    fn a_call_in_flight_keeps_the_object_after_its_handle_is_freed() {
        let (handle, dropped) = probe();
        let in_flight = borrow(handle, "probe").unwrap();
        release(handle, "probe").unwrap();
        assert!(
            !dropped.load(Ordering::SeqCst),
            "freed under a call in flight"
        );
        assert!(matches!(borrow(handle, "probe"), Err(FfiError::Handle(_))));
        drop(in_flight);
        assert!(
            dropped.load(Ordering::SeqCst),
            "the last call did not free it"
        );
    }

    #[test]
    fn handle_values_are_never_reused_and_stale_ones_stay_refused() {
        let (first, _) = probe();
        release(first, "probe").unwrap();
        for _ in 0..1000 {
            let (next, _) = probe();
            assert_ne!(next.addr(), first.addr());
            assert!(matches!(release(first, "probe"), Err(FfiError::Handle(_))));
            assert!(borrow(next, "probe").is_ok());
            release(next, "probe").unwrap();
        }
    }

    #[test]
    fn a_handle_of_another_type_is_refused_and_left_alive() {
        let (handle, dropped) = probe();
        let as_other = handle.cast::<Other>();
        assert!(matches!(
            borrow(as_other, "other"),
            Err(FfiError::Handle(_))
        ));
        assert!(matches!(
            release(as_other, "other"),
            Err(FfiError::Handle(_))
        ));
        assert!(!dropped.load(Ordering::SeqCst));
        release(handle, "probe").unwrap();
        assert!(matches!(
            borrow::<Probe>(std::ptr::null(), "probe"),
            Err(FfiError::Null(_))
        ));
        assert!(release::<Probe>(std::ptr::null_mut(), "probe").is_ok());
    }

    /// Waits for a child, at most `secs` seconds (then kills it): whether it exited with 0.
    #[cfg(unix)]
    fn child_succeeded(pid: libc::pid_t, secs: u64) -> bool {
        let mut status = 0;
        for _ in 0..secs * 100 {
            // SAFETY: polls the child this test created.
            match unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } {
                0 => std::thread::sleep(std::time::Duration::from_millis(10)),
                done => {
                    return done == pid
                        && libc::WIFEXITED(status)
                        && libc::WEXITSTATUS(status) == 0;
                }
            }
        }
        // A child stuck on a lock: kill it, so that the test fails instead of hanging.
        // SAFETY: the child is ours and still running.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, &mut status, 0);
        }
        false
    }

    /// A thread holds each lock while another forks: the child must still be able to take
    /// both. The holder lets go once the fork has begun (the prepare handler started, or
    /// without one, once `fork()` has returned), so the child was made while it held the lock
    /// unless the prepare handler waited for it.
    #[cfg(unix)]
    #[test]
    fn a_child_forked_while_another_thread_holds_a_lock_can_take_it() {
        use super::fork_safety::imp::PREPARED;
        for which in ["registry", "buffers"] {
            let (held_tx, held_rx) = std::sync::mpsc::channel();
            let forked = Arc::new(AtomicBool::new(false));
            let holder = {
                let forked = Arc::clone(&forked);
                std::thread::spawn(move || {
                    let prepared = PREPARED.load(Ordering::SeqCst);
                    let guards = match which {
                        "registry" => (Some(registry()), None),
                        _ => (None, Some(buffers())),
                    };
                    held_tx.send(()).unwrap();
                    while PREPARED.load(Ordering::SeqCst) == prepared
                        && !forked.load(Ordering::SeqCst)
                    {
                        std::thread::yield_now();
                    }
                    drop(guards);
                })
            };
            held_rx.recv().unwrap();
            // SAFETY: the child only takes the two locks and leaves with `_exit`.
            let pid = unsafe { libc::fork() };
            assert!(pid >= 0, "fork failed");
            if pid == 0 {
                let (probe, _) = probe();
                let ok = borrow(probe, "probe").is_ok()
                    && release(probe, "probe").is_ok()
                    && free_buffer(alloc_buffer(b"child"), "string").is_ok();
                // SAFETY: leaves the child without running the parent's atexit handlers.
                unsafe { libc::_exit(if ok { 0 } else { 1 }) };
            }
            forked.store(true, Ordering::SeqCst);
            holder.join().unwrap();
            assert!(
                child_succeeded(pid, 20),
                "a child forked while another thread held the {which} lock could not take it"
            );
        }
    }

    #[test]
    fn a_buffer_freed_twice_or_not_ours_is_refused() {
        let ptr = alloc_buffer(b"text");
        // SAFETY: the buffer is live and holds the 4 bytes and the NUL.
        assert_eq!(unsafe { std::slice::from_raw_parts(ptr, 5) }, b"text\0");
        // SAFETY: one byte in is still inside the live buffer.
        let inside = unsafe { ptr.add(1) };
        assert!(matches!(
            free_buffer(inside, "string"),
            Err(FfiError::Handle(_))
        ));
        free_buffer(ptr, "string").unwrap();
        assert!(matches!(
            free_buffer(ptr, "string"),
            Err(FfiError::Handle(_))
        ));
        let mut foreign = [0u8; 8];
        assert!(matches!(
            free_buffer(foreign.as_mut_ptr(), "string"),
            Err(FfiError::Handle(_))
        ));
        assert!(free_buffer(std::ptr::null_mut(), "string").is_ok());
    }
}

//! Memory crossing the boundary: reading `(pointer, length)` arguments, handing out strings and
//! byte buffers that `goldplan_string_free` / `goldplan_bytes_free` take back, and the registry
//! of live handles that lets `_free` and every call detect a freed or foreign handle.

use std::collections::BTreeMap;
use std::os::raw::c_char;
use std::sync::{Mutex, PoisonError};

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

/// Marks buffers handed out by this library, so a foreign pointer passed to a `_free` is more
/// likely to be refused than freed. ("goldplan" in ASCII.)
const BUFFER_MAGIC: u64 = 0x676f_6c64_706c_616e;
/// Bytes before the data: the magic and the data length.
const BUFFER_HEADER: usize = 16;

/// Copies `data` into a buffer the caller frees with `goldplan_string_free` or
/// `goldplan_bytes_free`: `[magic][len][data][NUL]`, pointing at `data`. The NUL lets C print
/// strings directly; the length is still given separately because data may contain NULs.
pub(crate) fn alloc_buffer(data: &[u8]) -> *mut u8 {
    let mut buf = Vec::with_capacity(BUFFER_HEADER + data.len() + 1);
    buf.extend_from_slice(&BUFFER_MAGIC.to_ne_bytes());
    buf.extend_from_slice(&(data.len() as u64).to_ne_bytes());
    buf.extend_from_slice(data);
    buf.push(0);
    let raw = Box::into_raw(buf.into_boxed_slice()).cast::<u8>();
    // SAFETY: the allocation is `BUFFER_HEADER + len + 1` bytes long, so the offset is in
    // bounds.
    unsafe { raw.add(BUFFER_HEADER) }
}

/// Takes back a buffer of [`alloc_buffer`], wiping it first (buffers may hold decrypted
/// fields). NULL is a no-op.
///
/// # Safety
/// `ptr` must be NULL or a pointer returned by [`alloc_buffer`] that was not freed yet.
pub(crate) unsafe fn free_buffer(ptr: *mut u8, name: &'static str) -> FfiResult<()> {
    if ptr.is_null() {
        return Ok(());
    }
    // SAFETY: per the contract the buffer starts BUFFER_HEADER bytes before `ptr`.
    let base = unsafe { ptr.sub(BUFFER_HEADER) };
    // SAFETY: the header is 16 readable bytes at `base`; unaligned reads need no alignment.
    let (magic, len) = unsafe {
        (
            base.cast::<u64>().read_unaligned(),
            base.add(8).cast::<u64>().read_unaligned(),
        )
    };
    if magic != BUFFER_MAGIC {
        return Err(FfiError::Handle(name));
    }
    let total = BUFFER_HEADER + len as usize + 1;
    // SAFETY: `base` and `total` are exactly the pointer and length of the boxed slice that
    // `alloc_buffer` leaked.
    let mut boxed = unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(base, total)) };
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

/// The kinds of handles, so that a handle freed through the wrong `_free` is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HandleKind {
    Client,
    Response,
    Signer,
    Verifier,
}

/// A type handed out as an opaque handle.
pub(crate) trait Handle: Sized {
    /// Its kind in the registry.
    const KIND: HandleKind;
}

/// Live handles by address. A mutex, not a lock-free map, because handles are created and
/// freed rarely; a `fork()` taken while another thread is inside `_new`/`_free` could leave it
/// locked in the child, so, like every library, do not fork in the middle of those calls.
static LIVE: Mutex<BTreeMap<usize, HandleKind>> = Mutex::new(BTreeMap::new());

fn live() -> std::sync::MutexGuard<'static, BTreeMap<usize, HandleKind>> {
    // The map is only inserted into and removed from: a panic elsewhere cannot leave it
    // half-updated, so a poisoned lock is still good.
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Boxes `value` and registers the pointer as a live handle.
pub(crate) fn register<T: Handle>(value: T) -> *mut T {
    let ptr = Box::into_raw(Box::new(value));
    live().insert(ptr as usize, T::KIND);
    ptr
}

/// The object behind a live handle of type `T`; NULL, freed and foreign handles are errors,
/// found without dereferencing them.
///
/// # Safety
/// The handle must not be freed by another thread during the call (the registry cannot
/// prevent that race).
pub(crate) unsafe fn borrow<'a, T: Handle>(ptr: *const T, name: &'static str) -> FfiResult<&'a T> {
    if ptr.is_null() {
        return Err(FfiError::Null(name));
    }
    if live().get(&(ptr as usize)) != Some(&T::KIND) {
        return Err(FfiError::Handle(name));
    }
    // SAFETY: the registry says `ptr` came from `register::<T>` and has not been released, so
    // it points to a live, initialised `T`; shared references only (handles are `Sync`).
    Ok(unsafe { &*ptr })
}

/// Frees a live handle of type `T`; NULL is a no-op, a freed or foreign handle an error.
///
/// # Safety
/// No other thread may be using the handle.
pub(crate) unsafe fn release<T: Handle>(ptr: *mut T, name: &'static str) -> FfiResult<()> {
    if ptr.is_null() {
        return Ok(());
    }
    {
        let mut map = live();
        if map.get(&(ptr as usize)) != Some(&T::KIND) {
            return Err(FfiError::Handle(name));
        }
        map.remove(&(ptr as usize));
    }
    // SAFETY: the pointer came from `Box::into_raw` in `register::<T>` and was just removed
    // from the registry, so this is its only release.
    drop(unsafe { Box::from_raw(ptr) });
    Ok(())
}

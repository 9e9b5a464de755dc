//! Interpreter exit while other threads are inside calls.
//!
//! CPython runs its `atexit` handlers, one of which stops the runtime, and then finalises;
//! daemon threads are not joined and may be inside a call all along. Left alone, such a thread
//! polls its request on a runtime whose timers and sockets are gone (tokio panics, and the
//! panic message is printed although the boundary catches it), then comes back to Python,
//! where a finalising interpreter ends it mid-call (3.11–3.13 unwind it with `pthread_exit`
//! through this library's frames) or never lets it in (3.14).
//!
//! So from [`begin`] on, a thread other than the exiting one never comes back from a call: its
//! call is stopped and the thread then waits, detached from the interpreter, for the process to
//! end, as a daemon thread blocked reading a socket does. A call it starts later waits the same
//! way. The exiting thread (later `atexit` handlers) still gets a runtime and its answers.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::task::Poll;
use std::thread::ThreadId;
use std::time::Duration;

use pyo3::prelude::*;
use tokio::runtime::Handle;
use tokio::sync::Notify;

/// Set once the interpreter began to exit; never cleared (the process is ending).
static EXITING: AtomicBool = AtomicBool::new(false);
/// The thread running the `atexit` handlers.
static EXIT_THREAD: Mutex<Option<ThreadId>> = Mutex::new(None);
/// Wakes the calls in flight when the exit begins.
static STOP: Notify = Notify::const_new();
/// Calls whose futures are being polled on their callers' threads ([`block_on`]). An atomic,
/// not a lock, on the path of every call; [`ALL_LEFT`] is used only during the exit.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
/// With [`ALL_LEFT_LOCK`]: signalled during the exit when [`IN_FLIGHT`] drops to zero.
static ALL_LEFT: Condvar = Condvar::new();
static ALL_LEFT_LOCK: Mutex<()> = Mutex::new(());

/// Whether `thread` is left out of Python for good: the exit began on another thread.
pub(crate) fn abandons(thread: ThreadId) -> bool {
    EXITING.load(Ordering::SeqCst)
        && *EXIT_THREAD.lock().unwrap_or_else(PoisonError::into_inner) != Some(thread)
}

/// Whether this thread must not come back to Python.
fn must_wait_for_exit() -> bool {
    // The flag first: outside the exit, a call pays one atomic load here.
    EXITING.load(Ordering::SeqCst) && abandons(std::thread::current().id())
}

/// Blocks this (detached) thread until the process ends.
fn wait_for_exit() -> ! {
    loop {
        std::thread::park();
    }
}

/// Called by the `atexit` handler, detached, before the runtime stops: from now on other
/// threads' calls never return, and those in flight stop polling their futures. Returns when
/// none is polling any more, or after `grace` (a call stuck outside its futures' reach), so
/// that stopping the runtime does not pull its timers and sockets from under a poll.
pub(crate) fn begin(grace: Duration) {
    *EXIT_THREAD.lock().unwrap_or_else(PoisonError::into_inner) = Some(std::thread::current().id());
    EXITING.store(true, Ordering::SeqCst);
    STOP.notify_waiters();
    let lock = ALL_LEFT_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
    drop(
        ALL_LEFT
            .wait_timeout_while(lock, grace, |()| IN_FLIGHT.load(Ordering::SeqCst) > 0)
            .unwrap_or_else(PoisonError::into_inner),
    );
}

/// [`Python::detach`] for calls: during the exit, another thread's call never returns to
/// Python (see the module documentation); otherwise `f`'s value.
pub(crate) fn detach<T, F>(py: Python<'_>, f: F) -> T
where
    F: Send + FnOnce() -> T,
    T: Send,
{
    py.detach(|| {
        if must_wait_for_exit() {
            wait_for_exit();
        }
        let value = f();
        if must_wait_for_exit() {
            drop(value);
            wait_for_exit();
        }
        value
    })
}

/// Counts a call in [`IN_FLIGHT`] while it lives.
struct InFlight;

impl InFlight {
    fn enter() -> InFlight {
        IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if IN_FLIGHT.fetch_sub(1, Ordering::SeqCst) == 1 && EXITING.load(Ordering::SeqCst) {
            // Under the lock, so that [`begin`] is either still to read the count or waiting.
            let _lock = ALL_LEFT_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
            ALL_LEFT.notify_all();
        }
    }
}

/// Polls `fut` to completion on this thread, on `handle`'s runtime; `None` once another
/// thread began the exit (the future is then dropped, before the runtime stops). Call it
/// through [`detach`], which keeps such a thread from returning.
pub(crate) fn block_on<F: Future>(handle: &Handle, fut: F) -> Option<F::Output> {
    let _in_flight = InFlight::enter();
    handle.block_on(async {
        // Created before the flag is read: `notify_waiters` wakes every `Notified` that exists
        // when it is called, so an exit that begins after the read is never missed.
        let mut stop = pin!(STOP.notified());
        if must_wait_for_exit() {
            return None;
        }
        let mut fut = pin!(fut);
        std::future::poll_fn(|cx| {
            if stop.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            fut.as_mut().poll(cx).map(Some)
        })
        .await
    })
}

/// For a call about to start on this thread (an asyncio one, whose future is polled by the
/// runtime): during another thread's exit, this thread waits for the process to end instead.
pub(crate) fn wait_if_exiting(py: Python<'_>) {
    if must_wait_for_exit() {
        py.detach(|| wait_for_exit());
    }
}

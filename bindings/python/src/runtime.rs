//! How calls run on the process's tokio runtime (`goldplan_host`, which rebuilds it in a child
//! after `fork()`): blocking calls with the GIL released; `AsyncClient`'s calls as asyncio
//! futures whose outcomes go back to their event loop through [`LoopCompletions`].

use std::any::Any;
use std::cell::RefCell;
use std::future::Future;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use tokio::runtime::Handle;
use tokio::task::AbortHandle;

use crate::error::{ToPy, finish, internal_error};

/// The runtime of this process (`goldplan_host::runtime`: created on first use, and anew in a
/// child after `fork()`).
pub(crate) fn handle(_py: Python<'_>) -> PyResult<Handle> {
    goldplan_host::runtime()
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(format!("cannot start tokio: {e}")))
}

/// The pid that [`handle`] last served (for `goldplan._runtime_pid()` in the fork test).
pub(crate) fn runtime_pid() -> Option<u32> {
    goldplan_host::runtime_pid()
}

/// A future that turns a panic while polling into an `Err` carrying the panic payload.
pub(crate) struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

/// Runs a core future to completion on the runtime with the GIL released, then converts the
/// outcome (value, core error or panic) to Python.
pub(crate) fn block_on<F, T>(py: Python<'_>, fut: F) -> PyResult<Py<PyAny>>
where
    F: Future<Output = goldplan::Result<T>> + Send,
    T: ToPy + Send,
{
    block_on_with(py, fut, finish)
}

/// [`block_on`] with the caller's conversion of the outcome (run with the GIL held).
pub(crate) fn block_on_with<F, T>(
    py: Python<'_>,
    fut: F,
    convert: impl FnOnce(Python<'_>, goldplan::Result<T>) -> PyResult<Py<PyAny>>,
) -> PyResult<Py<PyAny>>
where
    F: Future<Output = goldplan::Result<T>> + Send,
    T: Send,
{
    let result = block_on_plain(py, fut)?;
    convert(py, result)
}

/// Runs any future to completion on the runtime with the GIL released (a panic becomes
/// `InternalError`); the caller converts the output.
pub(crate) fn block_on_plain<F>(py: Python<'_>, fut: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    crate::exit::wait_if_exiting(py);
    let handle = handle(py)?;
    match crate::exit::detach(py, || {
        std::panic::catch_unwind(AssertUnwindSafe(|| crate::exit::block_on(&handle, fut)))
    }) {
        Ok(Some(output)) => Ok(output),
        // Only on a thread that `exit::detach` never lets return.
        Ok(None) => Err(crate::error::to_pyerr(
            py,
            &goldplan::Error::Internal("the interpreter is exiting".into()),
        )),
        Err(panic) => Err(internal_error(py, &*panic)),
    }
}

/// Turns a finished call's outcome into a Python object (or raises), once the GIL is held.
type Convert = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

/// Finished asyncio calls waiting for their event loop, and the socket pair that wakes it.
///
/// A call's task ends on a runtime worker, which never takes the GIL: it queues the outcome and,
/// if the queue was empty, writes one byte. The loop reads that socket (`loop.add_reader`) and
/// resolves every queued future on its own thread, where the GIL is held anyway. Handing each
/// result to a thread that takes the GIL and calls `call_soon_threadsafe` cost several thread
/// wake-ups and GIL hand-offs per call.
#[pyclass(module = "goldplan._goldplan", frozen)]
pub(crate) struct LoopCompletions {
    queue: Mutex<Vec<(Py<PyAny>, Convert)>>,
    wake_tx: UnixStream,
    wake_rx: UnixStream,
}

impl LoopCompletions {
    fn new() -> std::io::Result<LoopCompletions> {
        let (wake_tx, wake_rx) = UnixStream::pair()?;
        wake_tx.set_nonblocking(true)?;
        wake_rx.set_nonblocking(true)?;
        Ok(LoopCompletions {
            queue: Mutex::new(Vec::new()),
            wake_tx,
            wake_rx,
        })
    }

    /// Queues a finished call (on a runtime worker, without the GIL) and wakes the loop.
    fn push(&self, future: Py<PyAny>, convert: Convert) {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let wake = queue.is_empty();
        queue.push((future, convert));
        drop(queue);
        if wake {
            self.wake();
        }
    }

    /// Makes the loop's reader ready. `WouldBlock` means the socket already holds unread bytes,
    /// so the loop will drain the queue anyway; the write cannot fail otherwise while both ends
    /// are open.
    fn wake(&self) {
        loop {
            match (&self.wake_tx).write(&[1]) {
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                _ => return,
            }
        }
    }
}

#[pymethods]
impl LoopCompletions {
    /// The loop's reader callback: resolves every queued future (a cancelled one is skipped).
    fn _drain(&self, py: Python<'_>) {
        let mut sink = [0u8; 64];
        loop {
            match (&self.wake_rx).read(&mut sink) {
                Ok(n) if n > 0 => continue,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                _ => break,
            }
        }
        let done = std::mem::take(&mut *self.queue.lock().unwrap_or_else(PoisonError::into_inner));
        for (future, convert) in done {
            let future = future.bind(py);
            // One bad conversion must not leave the other awaiters of this batch waiting.
            let resolved = std::panic::catch_unwind(AssertUnwindSafe(|| resolve(future, convert)))
                .unwrap_or_else(|panic| {
                    let err = internal_error(py, &*panic);
                    future
                        .call_method1(intern!(py, "set_exception"), (err.value(py),))
                        .map(drop)
                });
            if let Err(e) = resolved {
                e.write_unraisable(py, Some(future));
            }
        }
    }
}

fn resolve(future: &Bound<'_, PyAny>, convert: Convert) -> PyResult<()> {
    let py = future.py();
    if future.call_method0(intern!(py, "done"))?.is_truthy()? {
        // Cancelled by its awaiter: there is nobody to hand the outcome to.
        return Ok(());
    }
    match convert(py) {
        Ok(value) => future.call_method1(intern!(py, "set_result"), (value,))?,
        Err(err) => future.call_method1(intern!(py, "set_exception"), (err.value(py),))?,
    };
    Ok(())
}

/// A call's way back to its future. Dropped without [`Delivery::deliver`] (its task was
/// dropped: runtime shut down, or the call cancelled), it still resolves the future, with an
/// error, so that no awaiter waits forever; except a daemon thread's loop at exit (`exit`).
struct Delivery {
    completions: Py<LoopCompletions>,
    waiter: Option<Py<PyAny>>,
    /// The thread of the event loop that awaits the call.
    thread: std::thread::ThreadId,
}

impl Delivery {
    fn deliver(mut self, convert: Convert) {
        if let Some(waiter) = self.waiter.take() {
            self.completions.get().push(waiter, convert);
        }
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        if crate::exit::abandons(self.thread) {
            // The runtime stopped at exit under a loop of another (daemon) thread: an error now
            // would run that loop's code during the exit. It waits, as its thread does, for
            // the process to end.
            return;
        }
        if let Some(waiter) = self.waiter.take() {
            let convert: Convert = Box::new(|py| {
                Err(crate::error::to_pyerr(
                    py,
                    &goldplan::Error::Internal(
                        "the call was stopped before it finished (its runtime shut down)".into(),
                    ),
                ))
            });
            self.completions.get().push(waiter, convert);
        }
    }
}

/// Aborts a call's task when its asyncio future is cancelled (an `add_done_callback` callback).
#[pyclass(module = "goldplan._goldplan", frozen)]
struct AbortOnCancel(AbortHandle);

#[pymethods]
impl AbortOnCancel {
    fn __call__(&self, future: &Bound<'_, PyAny>) -> PyResult<()> {
        if future
            .call_method0(intern!(future.py(), "cancelled"))?
            .is_truthy()?
        {
            self.0.abort();
        }
        Ok(())
    }
}

/// An event loop that a thread has run calls on, and its completions (registered as its
/// reader), in the process they were made in (a forked child must not share the parent's
/// socket).
struct SeenLoop {
    event_loop: Py<PyAny>,
    completions: Py<LoopCompletions>,
    pid: u32,
}

thread_local! {
    /// The loops of this thread that are still open. Usually one; more when loops take turns
    /// without closing (a private loop beside the application's).
    static SEEN_LOOPS: RefCell<Vec<SeenLoop>> = const { RefCell::new(Vec::new()) };
}

/// The completions of the running event loop, registered with it on first use.
fn completions_for(event_loop: &Bound<'_, PyAny>) -> PyResult<Py<LoopCompletions>> {
    let py = event_loop.py();
    let pid = std::process::id();
    let known = SEEN_LOOPS.with(|cell| {
        cell.borrow()
            .iter()
            .find(|seen| seen.pid == pid && seen.event_loop.bind(py).is(event_loop))
            .map(|seen| seen.completions.clone_ref(py))
    });
    if let Some(completions) = known {
        return Ok(completions);
    }
    let completions = Py::new(
        py,
        LoopCompletions::new().map_err(|e| {
            pyo3::exceptions::PyRuntimeError::new_err(format!("cannot make a wake-up socket: {e}"))
        })?,
    )?;
    let fd = completions.get().wake_rx.as_raw_fd();
    let drain = completions.bind(py).getattr(intern!(py, "_drain"))?;
    // Registered from an empty context: the reader keeps the context it was added in for the
    // loop's life, and it must not keep the first caller's context variables alive.
    let empty = py.import("contextvars")?.getattr("Context")?.call0()?;
    let add_reader = event_loop.getattr(intern!(py, "add_reader"))?;
    empty
        .call_method1(intern!(py, "run"), (add_reader, fd, drain))
        .map_err(|e| {
            if e.is_instance_of::<pyo3::exceptions::PyNotImplementedError>(py) {
                pyo3::exceptions::PyRuntimeError::new_err(
                    "AsyncClient needs an event loop with add_reader (asyncio's default loop \
                     on Linux and macOS, or uvloop)",
                )
            } else {
                e
            }
        })?;
    SEEN_LOOPS.with(|cell| {
        let mut seen = cell.borrow_mut();
        // A closed loop let go of its reader; a parent's loops are not this process's.
        seen.retain(|s| {
            s.pid == pid
                && !s
                    .event_loop
                    .bind(py)
                    .call_method0(intern!(py, "is_closed"))
                    .and_then(|closed| closed.is_truthy())
                    .unwrap_or(true)
        });
        seen.push(SeenLoop {
            event_loop: event_loop.clone().unbind(),
            completions: completions.clone_ref(py),
            pid,
        });
    });
    Ok(completions)
}

/// Starts a core future on the runtime and returns an asyncio future for its outcome.
pub(crate) fn future_into_py<F, T>(py: Python<'_>, fut: F) -> PyResult<Bound<'_, PyAny>>
where
    F: Future<Output = goldplan::Result<T>> + Send + 'static,
    T: ToPy + Send + 'static,
{
    future_into_py_with(py, fut, finish)
}

/// [`future_into_py`] with the caller's conversion of the outcome, run on the event loop's
/// thread with the GIL held (never on a runtime worker).
pub(crate) fn future_into_py_with<F, T, C>(
    py: Python<'_>,
    fut: F,
    convert: C,
) -> PyResult<Bound<'_, PyAny>>
where
    F: Future<Output = goldplan::Result<T>> + Send + 'static,
    T: Send + 'static,
    C: FnOnce(Python<'_>, goldplan::Result<T>) -> PyResult<Py<PyAny>> + Send + 'static,
{
    static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let get_running_loop = GET_RUNNING_LOOP.get_or_try_init(py, || {
        py.import("asyncio")?
            .getattr("get_running_loop")
            .map(Bound::unbind)
    })?;
    let event_loop = get_running_loop.bind(py).call0()?;
    crate::exit::wait_if_exiting(py);
    let completions = completions_for(&event_loop)?;
    let handle = handle(py)?;
    let future = event_loop.call_method0(intern!(py, "create_future"))?;
    let delivery = Delivery {
        completions,
        waiter: Some(future.clone().unbind()),
        thread: std::thread::current().id(),
    };
    let guarded = CatchUnwind(Box::pin(fut));
    let task = handle.spawn(async move {
        let outcome = guarded.await;
        delivery.deliver(Box::new(move |py| match outcome {
            Ok(result) => convert(py, result),
            Err(panic) => Err(internal_error(py, &*panic)),
        }));
    });
    let abort = task.abort_handle();
    if let Err(e) = future.call_method1(
        intern!(py, "add_done_callback"),
        (AbortOnCancel(abort.clone()),),
    ) {
        // The caller gets this error, not the future: nobody would await the call's outcome.
        abort.abort();
        return Err(e);
    }
    Ok(future)
}

//! How calls run on the process's tokio runtime (`goldplan_host`, which rebuilds it in a child
//! after `fork()`): blocking calls with the GIL released, async calls as asyncio awaitables
//! (pyo3-async-runtimes over this same runtime).

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use pyo3::prelude::*;
use pyo3_async_runtimes::TaskLocals;
use pyo3_async_runtimes::generic::{ContextExt, Runtime as GenericRuntime};
use tokio::runtime::Handle;
use tokio::sync::OnceCell;

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
    let result = block_on_plain(py, fut)?;
    finish(py, result)
}

/// Runs any future to completion on the runtime with the GIL released (a panic becomes
/// `InternalError`); the caller converts the output.
pub(crate) fn block_on_plain<F>(py: Python<'_>, fut: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let handle = handle(py)?;
    py.detach(|| std::panic::catch_unwind(AssertUnwindSafe(|| handle.block_on(fut))))
        .map_err(|panic| internal_error(py, &*panic))
}

/// A result whose conversion to Python waits until the GIL is held: pyo3-async-runtimes
/// converts it (and raises the error it holds) on a blocking thread, never on a runtime worker.
pub(crate) struct Deferred(Box<Convert>);

/// Turns a finished call's outcome into a Python object (or raises).
type Convert = dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send;

impl<'py> IntoPyObject<'py> for Deferred {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        (self.0)(py).map(|obj| obj.into_bound(py))
    }
}

tokio::task_local! {
    static TASK_LOCALS: OnceCell<TaskLocals>;
}

/// pyo3-async-runtimes' view of [`handle`]'s runtime.
struct ForkAwareTokio;

#[allow(clippy::expect_used)] // see the invariant below
fn spawn_handle() -> Handle {
    if let Ok(inside) = Handle::try_current() {
        // pyo3-async-runtimes spawns its inner tasks from tasks already on the runtime.
        return inside;
    }
    // Invariant: the only spawn from outside the runtime is the first one made inside
    // `future_into_py`, which called `handle(py)` for this pid just before, with the GIL held
    // all along (so no fork came between): the runtime of this process exists, and
    // `goldplan_host::runtime` returns it without building anything (building is its only
    // failure).
    goldplan_host::runtime().expect("future_into_py created the runtime of this process")
}

impl GenericRuntime for ForkAwareTokio {
    type JoinError = tokio::task::JoinError;
    type JoinHandle = tokio::task::JoinHandle<()>;

    fn spawn<F>(fut: F) -> Self::JoinHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        spawn_handle().spawn(fut)
    }

    fn spawn_blocking<F>(f: F) -> Self::JoinHandle
    where
        F: FnOnce() + Send + 'static,
    {
        spawn_handle().spawn_blocking(f)
    }
}

impl ContextExt for ForkAwareTokio {
    fn scope<F, R>(locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        let cell = OnceCell::new_with(Some(locals));
        Box::pin(TASK_LOCALS.scope(cell, fut))
    }

    fn get_task_locals() -> Option<TaskLocals> {
        TASK_LOCALS
            .try_with(|c| c.get().cloned())
            .unwrap_or_default()
    }
}

/// Starts a core future on the runtime and returns an asyncio awaitable for its outcome.
pub(crate) fn future_into_py<F, T>(py: Python<'_>, fut: F) -> PyResult<Bound<'_, PyAny>>
where
    F: Future<Output = goldplan::Result<T>> + Send + 'static,
    T: ToPy + Send + 'static,
{
    // Make sure this process has its runtime before pyo3-async-runtimes spawns on it.
    handle(py)?;
    let guarded = CatchUnwind(Box::pin(fut));
    pyo3_async_runtimes::generic::future_into_py::<ForkAwareTokio, _, Deferred>(py, async move {
        let outcome = guarded.await;
        Ok(Deferred(Box::new(move |py| match outcome {
            Ok(result) => finish(py, result),
            Err(panic) => Err(internal_error(py, &*panic)),
        })))
    })
}

//! The native half of `goldplan.bulk`: the bulk crate's JSON surface
//! (`goldplan_bulk::surface`), translated. JSON text in and out; `bulk_run` also hands the
//! run's events to a Python callback on the calling thread.

use std::time::Duration;

use goldplan_bulk::CancellationToken;
use goldplan_bulk::surface::{self, SurfaceError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use tokio::task::JoinError;

use crate::error::{internal_error, raise};
use crate::json::json_to_py;
use crate::runtime;

/// A surface error as the `goldplan.errors` exception of its kind; its attributes are the
/// core's error report plus `problems` (a refused plan's `{line, column, message}` dicts).
fn to_pyerr(py: Python<'_>, error: &SurfaceError) -> PyErr {
    let report = error.report();
    let attrs = json_to_py(py, &error.to_json()).and_then(|obj| Ok(obj.cast_into::<PyDict>()?));
    let attrs = match attrs {
        Ok(attrs) => attrs,
        Err(e) => return e,
    };
    for key in ["kind", "message"] {
        if let Err(e) = attrs.del_item(key) {
            return e;
        }
    }
    raise(py, report.kind.as_str(), report.message, attrs)
}

/// Runs a synchronous surface function with the GIL released (a panic becomes
/// `InternalError`).
fn detached<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> Result<T, SurfaceError> + Send,
) -> PyResult<T> {
    match crate::exit::detach(py, || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
    }) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_pyerr(py, &e)),
        Err(panic) => Err(internal_error(py, &*panic)),
    }
}

/// The run options with the library's defaults, as JSON text.
#[pyfunction]
pub(crate) fn bulk_default_options() -> String {
    surface::default_options()
}

/// Validates a plan source (JSON text); returns the plan's summary as JSON text.
#[pyfunction]
pub(crate) fn bulk_check_plan(py: Python<'_>, source: String) -> PyResult<String> {
    detached(py, || surface::check_plan(&source))
}

/// The report of a journal's job, as JSON text.
#[pyfunction]
pub(crate) fn bulk_report(py: Python<'_>, journal: String) -> PyResult<String> {
    detached(py, || surface::report(&journal))
}

/// Moves a journal's failed operations back to pending; returns how many.
#[pyfunction]
#[pyo3(signature = (journal, include_reopen_too_soon=false))]
pub(crate) fn bulk_retry_failed(
    py: Python<'_>,
    journal: String,
    include_reopen_too_soon: bool,
) -> PyResult<u64> {
    detached(py, || {
        surface::retry_failed(&journal, include_reopen_too_soon)
    })
}

/// What the calling thread wakes up for while a run goes on.
enum Step {
    Events(Vec<String>),
    Finished(Result<Result<String, SurfaceError>, JoinError>),
    Tick,
}

/// How often the calling thread comes back to Python at least (signals, Ctrl-C).
const TICK: Duration = Duration::from_millis(100);

/// Runs a plan's job with `client` (a `Client` or `AsyncClient`); returns the summary as JSON
/// text. The job runs on the runtime with the GIL released; its events are handed to
/// `on_event` (one dict each) on this thread, one at a time. If `on_event` raises, or a signal
/// handler does (Ctrl-C), the run is cancelled, the calls in flight finish and are journaled,
/// and the exception propagates.
#[pyfunction]
#[pyo3(signature = (client, source, journal, options, on_event=None))]
pub(crate) fn bulk_run(
    py: Python<'_>,
    client: &Bound<'_, PyAny>,
    source: String,
    journal: String,
    options: String,
    on_event: Option<Py<PyAny>>,
) -> PyResult<String> {
    let client = crate::client::core_client(client)?;
    crate::exit::wait_if_exiting(py);
    let handle = runtime::handle(py)?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let wants_events = on_event.is_some();
    let cancel = CancellationToken::new();
    let job_cancel = cancel.clone();
    let mut job = handle.spawn(async move {
        surface::run_with_cancellation(
            client,
            &source,
            &journal,
            &options,
            move |event| {
                if wants_events {
                    // Fails only once the receiver is gone (the caller stopped listening).
                    let _ = tx.send(event.to_owned());
                }
            },
            job_cancel,
        )
        .await
    });
    // Cancels the job if this thread leaves early (an error below, the interpreter exiting).
    let _stop = cancel.clone().drop_guard();
    let mut failure: Option<PyErr> = None;
    let mut closed = false;
    let outcome = loop {
        let step = runtime::block_on_plain(py, async {
            let mut batch = Vec::new();
            tokio::select! {
                biased;
                n = rx.recv_many(&mut batch, 256), if !closed => {
                    if n == 0 { closed = true; Step::Tick } else { Step::Events(batch) }
                }
                r = &mut job => Step::Finished(r),
                () = tokio::time::sleep(TICK) => Step::Tick,
            }
        })?;
        let finished = match step {
            Step::Events(batch) => {
                deliver(py, on_event.as_ref(), batch, &mut failure, &cancel);
                None
            }
            Step::Tick => None,
            Step::Finished(r) => {
                let mut rest = Vec::new();
                while let Ok(e) = rx.try_recv() {
                    rest.push(e);
                }
                deliver(py, on_event.as_ref(), rest, &mut failure, &cancel);
                Some(r)
            }
        };
        if failure.is_none()
            && let Err(e) = py.check_signals()
        {
            failure = Some(e);
            cancel.cancel();
        }
        if let Some(r) = finished {
            break r;
        }
    };
    if let Some(e) = failure {
        return Err(e);
    }
    match outcome {
        Ok(Ok(summary)) => Ok(summary),
        Ok(Err(e)) => Err(to_pyerr(py, &e)),
        Err(join) => match join.try_into_panic() {
            Ok(panic) => Err(internal_error(py, &*panic)),
            Err(join) => Err(crate::error::to_pyerr(
                py,
                &goldplan::Error::Internal(format!("the bulk run stopped: {join}")),
            )),
        },
    }
}

/// Calls `on_event` with each event (as a dict) until one call raises: that exception is kept
/// in `failure`, the run is cancelled, and later events are dropped.
fn deliver(
    py: Python<'_>,
    on_event: Option<&Py<PyAny>>,
    batch: Vec<String>,
    failure: &mut Option<PyErr>,
    cancel: &CancellationToken,
) {
    let Some(callback) = on_event else { return };
    for text in batch {
        if failure.is_some() {
            return;
        }
        let called = serde_json::from_str::<serde_json::Value>(&text)
            .map_err(|e| {
                crate::error::to_pyerr(py, &goldplan::Error::Internal(format!("an event: {e}")))
            })
            .and_then(|value| json_to_py(py, &value))
            .and_then(|event| callback.bind(py).call1((event,)));
        if let Err(e) = called {
            *failure = Some(e);
            cancel.cancel();
        }
    }
}

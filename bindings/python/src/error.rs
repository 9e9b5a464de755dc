//! The one place where core errors become Python exceptions: every [`goldplan::Error`] is
//! handed, with its stable kind name and its fields, to `goldplan.errors._from_native`, which
//! owns the kind → class table. Panics become `goldplan.errors.InternalError`, never
//! `PanicException`.

use std::any::Any;

use goldplan::Error;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

use crate::convert::json_to_py;

/// Kind name of errors that are bugs of this library (a panic caught at the boundary).
pub(crate) const INTERNAL: &str = "internal";

/// Kind name of sandbox failures that are not the caller's input (`goldplan.testing`).
pub(crate) const SANDBOX: &str = "sandbox";

static FACTORY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn factory(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    FACTORY
        .get_or_try_init(py, || {
            py.import("goldplan.errors")?
                .getattr("_from_native")
                .map(Bound::unbind)
        })
        .map(|f| f.bind(py))
}

/// The `goldplan.errors` exception of `kind` with these attributes.
pub(crate) fn raise(
    py: Python<'_>,
    kind: &str,
    message: String,
    attrs: Bound<'_, PyDict>,
) -> PyErr {
    let made = factory(py).and_then(|f| f.call1((kind, message.clone(), attrs)));
    match made {
        Ok(exception) => PyErr::from_value(exception),
        // Only when the pure-Python part of the package is missing (a broken install).
        Err(e) => PyRuntimeError::new_err(format!(
            "{kind}: {message} (goldplan.errors is unavailable: {e})"
        )),
    }
}

fn attributes<'py>(py: Python<'py>, error: &Error) -> PyResult<Bound<'py, PyDict>> {
    let attrs = PyDict::new(py);
    attrs.set_item("retryable", error.is_retryable())?;
    match error {
        Error::Verification(v) => {
            attrs.set_item("serial", v.serial.as_deref())?;
            attrs.set_item("request_id", v.request_id.as_deref())?;
        }
        Error::Api(api) => {
            attrs.set_item("status", api.status)?;
            attrs.set_item("code", &api.code)?;
            attrs.set_item("api_message", &api.message)?;
            let detail = match &api.detail {
                Some(d) => json_to_py(py, d)?,
                None => py.None().into_bound(py),
            };
            attrs.set_item("detail", detail)?;
            attrs.set_item("request_id", api.request_id.as_deref())?;
            attrs.set_item("raw_body", &api.raw_body)?;
            attrs.set_item("rate_limited", api.is_rate_limited())?;
        }
        Error::Transport {
            before_response, ..
        } => attrs.set_item("before_response", *before_response)?,
        Error::NoPlatformCertificate { request_id } => {
            attrs.set_item("request_id", request_id.as_deref())?;
        }
        Error::Replay { id } => attrs.set_item("notification_id", id)?,
        _ => {}
    }
    Ok(attrs)
}

/// The `goldplan.errors` exception for a core error.
pub(crate) fn to_pyerr(py: Python<'_>, error: &Error) -> PyErr {
    match attributes(py, error) {
        Ok(attrs) => raise(py, error.kind().as_str(), error.to_string(), attrs),
        Err(e) => e,
    }
}

/// The exception for a panic caught at the boundary.
pub(crate) fn internal_error(py: Python<'_>, panic: &(dyn Any + Send)) -> PyErr {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    raise(
        py,
        INTERNAL,
        format!("internal error in goldplan (please report it): {what}"),
        PyDict::new(py),
    )
}

/// Converts a core result (or a panic) into Python, raising the mapped exception on error.
pub(crate) fn guard<T>(py: Python<'_>, f: impl FnOnce() -> goldplan::Result<T>) -> PyResult<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_pyerr(py, &e)),
        Err(panic) => Err(internal_error(py, &*panic)),
    }
}

/// [`guard`] for CPU-heavy work (RSA): the GIL is released meanwhile, so other Python threads
/// run.
pub(crate) fn guard_detached<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> goldplan::Result<T> + Send,
) -> PyResult<T> {
    match py.detach(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_pyerr(py, &e)),
        Err(panic) => Err(internal_error(py, &*panic)),
    }
}

/// A core result in Python: the value, or the mapped exception.
pub(crate) fn finish<T: ToPy>(py: Python<'_>, result: goldplan::Result<T>) -> PyResult<Py<PyAny>> {
    match result {
        Ok(v) => v.to_py(py),
        Err(e) => Err(to_pyerr(py, &e)),
    }
}

/// Conversion of a call's successful result into a Python object, done with the GIL held.
pub(crate) trait ToPy {
    /// The Python object.
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>>;
}

impl ToPy for () {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(py.None())
    }
}

impl ToPy for u64 {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(self.into_pyobject(py)?.into_any().unbind())
    }
}

impl ToPy for (String, String) {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(self.into_pyobject(py)?.into_any().unbind())
    }
}

/// `ToPy` for `#[pyclass]` types: a new Python object holding the value.
macro_rules! pyclass_to_py {
    ($($ty:ty),+ $(,)?) => {$(
        impl $crate::error::ToPy for $ty {
            fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
                Ok(Py::new(py, self)?.into_any())
            }
        }
    )+};
}
pub(crate) use pyclass_to_py;

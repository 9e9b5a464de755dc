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

use crate::json::json_to_py;

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

/// The `goldplan.errors` exception for a core error: its attributes are the members of the
/// core's [`goldplan::ErrorReport`], so every binding carries the same fields.
pub(crate) fn to_pyerr(py: Python<'_>, error: &Error) -> PyErr {
    let report = error.report();
    let attrs = serde_json::to_value(&report)
        .map_err(|e| PyRuntimeError::new_err(format!("cannot convert an error report: {e}")))
        .and_then(|value| json_to_py(py, &value))
        .and_then(|obj| Ok(obj.cast_into::<PyDict>()?));
    let attrs = match attrs {
        Ok(attrs) => attrs,
        Err(e) => return e,
    };
    // Passed positionally; the rest are the exception's attributes.
    for key in ["kind", "message"] {
        if let Err(e) = attrs.del_item(key) {
            return e;
        }
    }
    raise(py, report.kind.as_str(), report.message, attrs)
}

/// The exception for a panic caught at the boundary.
pub(crate) fn internal_error(py: Python<'_>, panic: &(dyn Any + Send)) -> PyErr {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    to_pyerr(py, &Error::Internal(what))
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
    match crate::exit::detach(py, || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
    }) {
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

impl ToPy for goldplan::client::SensitiveCiphertext {
    /// `(ciphertext, wechatpay_serial)`, the tuple the Python API has always returned.
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok((self.ciphertext, self.wechatpay_serial)
            .into_pyobject(py)?
            .into_any()
            .unbind())
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

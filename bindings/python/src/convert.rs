//! Translating Python arguments into core types and core values into Python objects.

use std::path::PathBuf;
use std::sync::Arc;

use goldplan::clock::{Clock, ManualClock, SystemClock};
use goldplan::credentials::KeySource;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyString};
use serde_json::Value;
use zeroize::Zeroizing;

/// A clock frozen at `now` (a helper's `now=` / `timestamp=` argument, for tests and
/// replays), or the system clock.
pub(crate) fn clock(now: Option<i64>) -> Arc<dyn Clock> {
    match now {
        Some(t) => Arc::new(ManualClock::new(t)),
        None => Arc::new(SystemClock),
    }
}

/// Bytes the core produced (a message, a plaintext, a DER key) as Python `bytes`.
pub(crate) fn bytes_out<'py>(py: Python<'py>, data: &[u8]) -> Bound<'py, PyBytes> {
    PyBytes::new(py, data)
}

/// A JSON-able Python value (`dict`, `list`, `str`, number, `bool`, `None`) as JSON: how a
/// generated method takes a parameter of any JSON shape (it serializes as the value itself),
/// and how `goldplan.testing` reads its option objects. Going through `json.dumps` accepts
/// every mapping and sequence `json` does, with its errors for the rest.
#[derive(serde::Serialize)]
#[serde(transparent)]
pub(crate) struct JsonArg(pub(crate) Value);

impl<'a, 'py> FromPyObject<'a, 'py> for JsonArg {
    type Error = PyErr;

    fn extract(value: Borrowed<'a, 'py, PyAny>) -> PyResult<JsonArg> {
        let py = value.py();
        let text = py.import("json")?.call_method1("dumps", (value,))?;
        let text = text.cast::<PyString>()?.to_cow()?;
        serde_json::from_str(&text).map(JsonArg).map_err(|e| {
            crate::error::to_pyerr(
                py,
                &goldplan::Error::InvalidInput(format!("not a JSON value: {e}")),
            )
        })
    }
}

/// `bytes`, `bytearray` or `str` (encoded as UTF-8) → bytes.
pub(crate) fn bytes_arg(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<u8>> {
    if let Ok(b) = value.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = value.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(str_arg(s, what)?.as_bytes().to_vec());
    }
    Err(PyTypeError::new_err(format!(
        "{what} must be bytes or str, not {}",
        value.get_type().name()?
    )))
}

/// The UTF-8 of a `str`. A `str` holding a lone surrogate (`"\ud800"`, what
/// `surrogateescape` decoding leaves) has no UTF-8 form: that is the caller's input, so it is
/// an `InvalidInputError` naming the argument, not a `UnicodeEncodeError` from deep inside.
pub(crate) fn str_arg<'a>(
    value: &'a Bound<'_, PyString>,
    what: &str,
) -> PyResult<std::borrow::Cow<'a, str>> {
    value.to_cow().map_err(|_| {
        crate::error::to_pyerr(
            value.py(),
            &goldplan::Error::InvalidInput(format!(
                "{what} is a str that cannot be encoded as UTF-8 (it holds a lone surrogate)"
            )),
        )
    })
}

/// A request body: bytes or str as is; a `dict` or `list` serialised once as compact JSON
/// (those exact bytes are then signed and sent).
pub(crate) fn body_arg(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if value.is_instance_of::<PyDict>() || value.is_instance_of::<PyList>() {
        let kwargs = PyDict::new(py);
        kwargs.set_item("separators", (",", ":"))?;
        kwargs.set_item("ensure_ascii", false)?;
        let text = py
            .import("json")?
            .call_method("dumps", (value,), Some(&kwargs))?;
        return Ok(str_arg(text.cast::<PyString>()?, "body")?
            .as_bytes()
            .to_vec());
    }
    bytes_arg(value, "body")
}

/// HTTP headers from a mapping (`dict`, Django's `request.headers` or `request.META`,
/// Flask's `request.headers`) or an iterable of `(name, value)` pairs; values may be `str` or
/// `bytes`.
pub(crate) fn headers_arg(value: &Bound<'_, PyAny>) -> PyResult<Vec<(String, Vec<u8>)>> {
    let pairs = if value.hasattr("items")? {
        value.call_method0("items")?
    } else {
        value.clone()
    };
    let mut out = Vec::new();
    for item in pairs.try_iter()? {
        let item = item?;
        let (name, val): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract().map_err(|_| {
            PyTypeError::new_err("headers must be a mapping or an iterable of (name, value) pairs")
        })?;
        let name: String = name
            .extract()
            .map_err(|_| PyTypeError::new_err("header names must be str"))?;
        // Django's META also holds non-string entries (wsgi.input, ...): skip what is not a
        // header value.
        if let Ok(v) = bytes_arg(&val, "a header value") {
            out.push((name, v));
        }
    }
    Ok(out)
}

/// PEM text or a file to read it from, as given by the caller: `str` goes through the core's
/// one rule ([`KeySource::from_pem_or_path`]: PEM text when it holds `-----BEGIN`, else a
/// path), `bytes` is PEM text, `os.PathLike` is a path. Loading and its errors (bounded, never
/// echoing the value) are the core's too.
pub(crate) fn pem_or_path(value: &Bound<'_, PyAny>, what: &str) -> PyResult<KeySource> {
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(KeySource::from_pem_or_path(str_arg(s, what)?.into_owned()));
    }
    if let Ok(b) = value.cast::<PyBytes>() {
        let text = std::str::from_utf8(b.as_bytes())
            .map_err(|_| PyValueError::new_err(format!("{what} is not UTF-8 PEM text")))?;
        return Ok(KeySource::Pem(Zeroizing::new(text.to_owned())));
    }
    let path: PathBuf = value.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "{what} must be PEM text or a path (str or os.PathLike)"
        ))
    })?;
    Ok(KeySource::Path(path))
}

/// The PEM text of an argument that may be a path, reading the file when needed.
pub(crate) fn pem_text(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Zeroizing<String>> {
    let source = pem_or_path(value, what)?;
    crate::error::guard(value.py(), || source.load(what))
}

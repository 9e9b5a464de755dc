//! Callbacks (notifications): the `NotificationParser`, the decrypted `Notification`, the
//! caller's replay guard, and the acknowledgement to answer WeChat Pay with (spec §4.3).

use goldplan::ErrorKind;
use goldplan::notification::{Acknowledgement, Notification, NotificationParser};
use goldplan::verify;
use pyo3::prelude::*;

use crate::convert::{bytes_arg, headers_arg};
use crate::error::{guard, pyclass_to_py, to_pyerr};
use crate::verification::{PyVerifier, policy};

/// A Python callable `(notification_id) -> bool` that reports ids already processed.
///
/// It is asked here, with the GIL held on the caller's thread (the event loop's for
/// `AsyncClient`), after the core has verified and decrypted the callback, instead of being
/// handed to the core as a [`goldplan::notification::ReplayGuard`]: that trait answers only
/// `bool`, so an exception in the guard could only become "not seen" (the callback accepted
/// although nobody checked it) or "seen" (a `ReplayError`, which callers acknowledge as success,
/// so WeChat Pay would never re-deliver a callback that was never processed).
pub(crate) struct PyReplayGuard(Py<PyAny>);

impl PyReplayGuard {
    /// Accepts `notification` only when the guard answers a falsy value. A duplicate is the
    /// core's `ReplayError`; a guard that raises (or answers an awaitable, or something without
    /// a truth value) fails the parse with `InvalidInputError`, whose `__cause__` is the guard's
    /// exception, as in Node: its acknowledgement is a failure, so WeChat Pay re-delivers. An
    /// exception that is not an `Exception` (`KeyboardInterrupt`, `SystemExit`) propagates.
    pub(crate) fn check(&self, py: Python<'_>, notification: &Notification) -> PyResult<()> {
        let id = notification.id.as_str();
        let answer = match self.0.call1(py, (id,)) {
            Ok(answer) => answer,
            Err(e) => return Err(guard_failed(py, e)),
        };
        let answer = answer.bind(py);
        if answer.hasattr(pyo3::intern!(py, "__await__"))? {
            // An `async def` guard: its coroutine is truthy, which would report every callback
            // as a replay. Closed so that Python does not warn that it was never awaited.
            if answer.hasattr(pyo3::intern!(py, "close"))? {
                answer.call_method0(pyo3::intern!(py, "close"))?;
            }
            return Err(to_pyerr(
                py,
                &goldplan::Error::InvalidInput(
                    "the replay guard returned an awaitable; it must be a plain function \
                     returning a bool"
                        .into(),
                ),
            ));
        }
        match answer.is_truthy() {
            Ok(false) => Ok(()),
            Ok(true) => Err(to_pyerr(py, &goldplan::Error::Replay { id: id.to_owned() })),
            Err(e) => Err(guard_failed(py, e)),
        }
    }
}

/// The error for a replay guard that raised `cause`.
fn guard_failed(py: Python<'_>, cause: PyErr) -> PyErr {
    if !cause.is_instance_of::<pyo3::exceptions::PyException>(py) {
        return cause;
    }
    let err = to_pyerr(
        py,
        // The guard's own message may hold what it connects to (a database URL): it stays on
        // `__cause__`, out of a message that gets logged.
        &goldplan::Error::InvalidInput(format!(
            "the replay guard raised {}; see __cause__",
            cause
                .get_type(py)
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        )),
    );
    err.set_cause(py, Some(cause));
    err
}

/// The replay guard argument: `None` or a callable.
pub(crate) fn replay_guard(guard: Option<&Bound<'_, PyAny>>) -> PyResult<Option<PyReplayGuard>> {
    match guard {
        None => Ok(None),
        Some(g) if g.is_callable() => Ok(Some(PyReplayGuard(g.clone().unbind()))),
        Some(_) => Err(pyo3::exceptions::PyTypeError::new_err(
            "replay_guard must be a callable taking the notification id and returning a bool",
        )),
    }
}

/// Verifies and decrypts callbacks for one merchant, without a client.
#[pyclass(module = "goldplan._goldplan", name = "NotificationParser", frozen)]
pub(crate) struct PyNotificationParser {
    inner: NotificationParser,
    replay_guard: Option<PyReplayGuard>,
}

#[pymethods]
impl PyNotificationParser {
    /// `now` freezes the clock (tests); `max_skew_secs` is the accepted age of a callback;
    /// `replay_guard(notification_id) -> bool` reports ids already processed (`True` raises
    /// `ReplayError`; a guard that raises fails the parse with `InvalidInputError` chained to
    /// its exception).
    #[new]
    #[pyo3(signature = (verifier, apiv3_key, *, now=None, max_skew_secs=verify::DEFAULT_MAX_SKEW_SECS, replay_guard=None))]
    fn new(
        verifier: &PyVerifier,
        apiv3_key: &Bound<'_, PyAny>,
        now: Option<i64>,
        max_skew_secs: i64,
        replay_guard: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyNotificationParser> {
        let py = apiv3_key.py();
        let key = crate::keys::apiv3_key(apiv3_key)?;
        let inner = NotificationParser::new(verifier.inner.clone(), key).with_policy(policy(
            py,
            now,
            max_skew_secs,
        )?);
        Ok(PyNotificationParser {
            inner,
            replay_guard: self::replay_guard(replay_guard)?,
        })
    }

    /// Verifies the raw body and headers, then decrypts the resource.
    fn parse(
        &self,
        headers: &Bound<'_, PyAny>,
        body: &Bound<'_, PyAny>,
    ) -> PyResult<PyNotification> {
        let py = headers.py();
        let pairs = headers_arg(headers)?;
        let body = bytes_arg(body, "body")?;
        let notification = guard(py, || {
            self.inner.parse(pairs.iter().map(|(n, v)| (n, v)), &body)
        })?;
        if let Some(replay_guard) = &self.replay_guard {
            replay_guard.check(py, &notification)?;
        }
        Ok(PyNotification::from(notification))
    }
}

/// A verified, decrypted callback. `repr()` omits the decrypted resource.
#[pyclass(module = "goldplan._goldplan", name = "Notification", frozen)]
pub(crate) struct PyNotification {
    inner: Notification,
}

impl From<Notification> for PyNotification {
    fn from(inner: Notification) -> PyNotification {
        PyNotification { inner }
    }
}

#[pymethods]
impl PyNotification {
    /// Notification id (de-duplicate on it).
    #[getter]
    fn id(&self) -> &str {
        &self.inner.id
    }
    /// `create_time` as sent.
    #[getter]
    fn create_time(&self) -> &str {
        &self.inner.create_time
    }
    /// e.g. `TRANSACTION.SUCCESS`.
    #[getter]
    fn event_type(&self) -> &str {
        &self.inner.event_type
    }
    /// e.g. `encrypt-resource`.
    #[getter]
    fn resource_type(&self) -> &str {
        &self.inner.resource_type
    }
    /// Summary, when sent.
    #[getter]
    fn summary(&self) -> Option<&str> {
        self.inner.summary.as_deref()
    }
    /// `resource.original_type`, when sent.
    #[getter]
    fn original_type(&self) -> Option<&str> {
        self.inner.original_type.as_deref()
    }
    /// `Request-ID`, when sent.
    #[getter]
    fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }
    /// The serial or key id that signed it.
    #[getter]
    fn serial(&self) -> &str {
        &self.inner.serial
    }
    /// The decrypted resource (JSON text).
    #[getter]
    fn plaintext(&self) -> &str {
        self.inner.plaintext()
    }
    /// The decrypted resource, parsed.
    fn json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("json")?
            .call_method1("loads", (self.inner.plaintext(),))
    }
    fn __repr__(&self) -> String {
        format!(
            "Notification(id={:?}, event_type={:?}, create_time={:?}, serial={:?})",
            self.inner.id, self.inner.event_type, self.inner.create_time, self.inner.serial
        )
    }
}

/// The HTTP answer to give WeChat Pay for a callback (spec §4.3).
#[pyclass(
    module = "goldplan._goldplan",
    name = "Acknowledgement",
    frozen,
    get_all
)]
pub(crate) struct PyAcknowledgement {
    /// HTTP status.
    status: u16,
    /// JSON body (empty on success).
    body: String,
}

#[pymethods]
impl PyAcknowledgement {
    fn __repr__(&self) -> String {
        format!(
            "Acknowledgement(status={}, body={:?})",
            self.status, self.body
        )
    }
}

/// The acknowledgement for a callback: success without an error; for a `GoldPlanError`, the
/// answer its kind calls for (a replay is acknowledged; anything else is a failure).
#[pyfunction]
#[pyo3(signature = (error=None))]
pub(crate) fn acknowledgement(error: Option<&Bound<'_, PyAny>>) -> PyResult<PyAcknowledgement> {
    let ack = match error {
        None => Acknowledgement::success(),
        Some(e) => {
            let kind = e
                .getattr("kind")
                .ok()
                .and_then(|k| k.extract::<String>().ok())
                .and_then(|k| ErrorKind::from_name(&k));
            match kind {
                Some(kind) => Acknowledgement::for_kind(kind),
                None => Acknowledgement::failure(500, "internal"),
            }
        }
    };
    Ok(PyAcknowledgement {
        status: ack.status,
        body: ack.body,
    })
}

pyclass_to_py!(PyNotification);

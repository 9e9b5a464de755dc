//! `goldplan._goldplan`, the native module of the Python package `goldplan`.
//!
//! This crate translates types and errors and nothing else: every behaviour is the core's
//! (`goldplan`). Errors become the classes of `goldplan/errors.py` in one place
//! (the `error` module); panics are caught at the boundary and become `goldplan.errors.InternalError`.

#![forbid(unsafe_code)]

use goldplan::ErrorKind;
use goldplan::gold_plan::{IndustryType, OperationPayScene, OperationType};
use pyo3::prelude::*;

// The sans-IO helpers are one module per concept (keys, signing, verification, certificates,
// AEAD, sensitive fields, callbacks, the receipt), each owning its classes and functions.
mod aead;
mod bulk;
mod certificates;
mod client;
mod convert;
mod error;
mod exit;
mod json;
mod keys;
mod notification;
mod receipt;
mod runtime;
#[cfg(feature = "testing")]
mod sandbox;
mod sensitive;
mod signing;
mod verification;

fn wire_names<T>(all: &[T], name: impl Fn(&T) -> &str) -> Vec<String> {
    all.iter().map(|v| name(v).to_owned()).collect()
}

/// The pid of the process whose tokio runtime is current (for the fork test).
#[pyfunction]
fn _runtime_pid() -> Option<u32> {
    runtime::runtime_pid()
}

/// Stops the runtime at interpreter exit (registered with `atexit`), with the GIL released so
/// that calls finishing on runtime threads can still hand their results to Python. Without it,
/// such a thread could be inside a Python call when finalisation starts: CPython then ends
/// the thread mid-call, and the objects it was releasing crash the process. First, the calls
/// other (daemon) threads have in flight stop polling and those threads stay out of Python
/// (`exit`): stopping the runtime under a poll makes tokio panic.
#[pyfunction]
fn _shutdown_runtime(py: Python<'_>) {
    py.detach(|| {
        exit::begin(std::time::Duration::from_secs(2));
        goldplan_host::shutdown_runtime(std::time::Duration::from_secs(2));
    });
}

/// Panics on purpose, to show that a panic surfaces as `InternalError` (tests only).
#[pyfunction]
#[pyo3(signature = (blocking=true))]
fn _panic_for_tests(py: Python<'_>, blocking: bool) -> PyResult<Py<PyAny>> {
    let boom = async {
        if std::hint::black_box(true) {
            #[allow(clippy::panic)]
            {
                panic!("deliberate panic for the boundary test");
            }
        }
        Ok::<(), goldplan::Error>(())
    };
    if blocking {
        runtime::block_on(py, boom)
    } else {
        runtime::future_into_py(py, boom).map(Bound::unbind)
    }
}

#[pymodule]
fn _goldplan(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", goldplan::client::VERSION)?;
    m.add(
        "ERROR_KINDS",
        ErrorKind::ALL
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>(),
    )?;
    m.add(
        "ERROR_FAMILIES",
        ErrorKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.family().as_str()))
            .collect::<std::collections::HashMap<_, _>>(),
    )?;
    m.add("INTERNAL_ERROR_KIND", error::INTERNAL)?;
    m.add("SANDBOX_ERROR_KIND", error::SANDBOX)?;
    m.add(
        "OPERATION_TYPES",
        wire_names(OperationType::ALL, OperationType::as_str),
    )?;
    m.add(
        "OPERATION_PAY_SCENES",
        wire_names(OperationPayScene::ALL, OperationPayScene::as_str),
    )?;
    m.add(
        "INDUSTRY_TYPES",
        wire_names(IndustryType::ALL, IndustryType::as_str),
    )?;
    m.add(
        "MAX_INDUSTRY_FILTERS",
        goldplan::gold_plan::MAX_INDUSTRY_FILTERS,
    )?;
    m.add(
        "MAX_SENSITIVE_PLAINTEXT_LEN",
        goldplan::sensitive::MAX_PLAINTEXT_LEN_RSA2048,
    )?;

    m.add_class::<client::PyClient>()?;
    m.add_class::<client::PyAsyncClient>()?;
    m.add_class::<client::PyResponse>()?;
    m.add_class::<client::PyReply>()?;

    m.add_class::<keys::PyPrivateKey>()?;
    m.add_class::<signing::PySigner>()?;
    m.add_class::<signing::PySignedRequest>()?;
    m.add_class::<signing::PyAuthorization>()?;
    m.add_class::<verification::PyVerifier>()?;
    m.add_class::<verification::PyVerified>()?;
    m.add_class::<certificates::PyPlatformCertificate>()?;
    m.add_class::<certificates::PyDownloadedCertificates>()?;
    m.add_class::<sensitive::PyEncryptionKey>()?;
    m.add_class::<notification::PyNotificationParser>()?;
    m.add_class::<notification::PyNotification>()?;
    m.add_class::<notification::PyAcknowledgement>()?;
    m.add_class::<receipt::PyQueryValue>()?;
    m.add_class::<receipt::PyReceiptParams>()?;
    #[cfg(feature = "testing")]
    m.add_class::<sandbox::PySandbox>()?;
    m.add("HAS_SANDBOX", cfg!(feature = "testing"))?;

    m.add_function(wrap_pyfunction!(signing::message_to_sign, m)?)?;
    m.add_function(wrap_pyfunction!(verification::message_to_verify, m)?)?;
    m.add_function(wrap_pyfunction!(signing::canonical_url, m)?)?;
    m.add_function(wrap_pyfunction!(signing::generate_nonce, m)?)?;
    m.add_function(wrap_pyfunction!(certificates::decrypt_certificates, m)?)?;
    m.add_function(wrap_pyfunction!(aead::aead_decrypt, m)?)?;
    m.add_function(wrap_pyfunction!(aead::aead_encrypt, m)?)?;
    m.add_function(wrap_pyfunction!(sensitive::decrypt_sensitive, m)?)?;
    m.add_function(wrap_pyfunction!(notification::acknowledgement, m)?)?;
    m.add_function(wrap_pyfunction!(receipt::check_code_input, m)?)?;
    m.add_function(wrap_pyfunction!(receipt::expected_check_code, m)?)?;
    m.add_function(wrap_pyfunction!(receipt::verify_check_code, m)?)?;
    m.add_function(wrap_pyfunction!(receipt::parse_receipt_query, m)?)?;
    m.add_function(wrap_pyfunction!(receipt::receipt_test, m)?)?;
    m.add_function(wrap_pyfunction!(receipt::receipt_rules, m)?)?;
    m.add_function(wrap_pyfunction!(bulk::bulk_default_options, m)?)?;
    m.add_function(wrap_pyfunction!(bulk::bulk_check_plan, m)?)?;
    m.add_function(wrap_pyfunction!(bulk::bulk_run, m)?)?;
    m.add_function(wrap_pyfunction!(bulk::bulk_report, m)?)?;
    m.add_function(wrap_pyfunction!(bulk::bulk_retry_failed, m)?)?;
    m.add_function(wrap_pyfunction!(_runtime_pid, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    m.add_function(wrap_pyfunction!(_shutdown_runtime, m)?)?;
    m.py()
        .import("atexit")?
        .call_method1("register", (m.getattr("_shutdown_runtime")?,))?;
    Ok(())
}

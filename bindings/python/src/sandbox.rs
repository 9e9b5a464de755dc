//! The WeChat Pay sandbox (`goldplan-sandbox`) in-process, for `goldplan.testing`: start it on
//! the extension's runtime, drive its admin operations through the library API (no HTTP), and
//! build clients for its merchants.
//!
//! Arguments and results are the sandbox's own serde types, converted from and to plain
//! Python values (`dict`, `list`, `str`, ...), so nothing of the sandbox model is repeated here.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use goldplan::config::ClientConfig;
use goldplan_sandbox::{
    CallbackRequest, Fault, KeyMode, MerchantPatch, MerchantRegistration, RotateRequest, Sandbox,
    SandboxConfig, SandboxControl, SandboxError, SandboxHandle, Settings, SubMerchantPatch,
    SubMerchantRegistration,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::client::{PyAsyncClient, PyClient, Shared};
use crate::convert::JsonArg;
use crate::error::{SANDBOX, guard, raise};
use crate::json::json_to_py;
use crate::runtime;

/// Kind of the error raised for a sandbox failure that is not the caller's input.
fn sandbox_error(py: Python<'_>, e: SandboxError) -> PyErr {
    match e {
        SandboxError::Core(core) => crate::error::to_pyerr(py, &core),
        SandboxError::InvalidInput(m) => {
            crate::error::to_pyerr(py, &goldplan::Error::InvalidInput(m))
        }
        other => {
            let attrs = PyDict::new(py);
            let code = other.code();
            match attrs.set_item("code", code) {
                Ok(()) => raise(py, SANDBOX, format!("sandbox: {other}"), attrs),
                Err(e) => e,
            }
        }
    }
}

fn check<T>(py: Python<'_>, r: Result<T, SandboxError>) -> PyResult<T> {
    r.map_err(|e| sandbox_error(py, e))
}

/// A plain Python value (dict, list, str, number, bool, None) as a sandbox serde type.
fn from_py<T: DeserializeOwned>(value: &Bound<'_, PyAny>, what: &str) -> PyResult<T> {
    let py = value.py();
    let JsonArg(json) = value.extract()?;
    serde_json::from_value(json).map_err(|e| {
        crate::error::to_pyerr(py, &goldplan::Error::InvalidInput(format!("{what}: {e}")))
    })
}

/// A sandbox serde value as plain Python.
fn to_py<T: Serialize>(py: Python<'_>, value: &T) -> PyResult<Py<PyAny>> {
    let json = serde_json::to_value(value)
        .map_err(|e| crate::error::to_pyerr(py, &goldplan::Error::Decode(e.to_string())))?;
    Ok(json_to_py(py, &json)?.unbind())
}

/// How `goldplan.testing` starts a sandbox (all optional).
#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct StartOptions {
    mchid: Option<String>,
    mode: Option<KeyMode>,
    sub_mchids: Option<Vec<String>>,
    settings: Option<serde_json::Value>,
    state_dir: Option<PathBuf>,
}

/// A running in-process sandbox.
#[pyclass(module = "goldplan._goldplan", name = "_Sandbox", frozen)]
pub(crate) struct PySandbox {
    /// `None` once stopped. Locked only with the GIL held.
    handle: Mutex<Option<SandboxHandle>>,
    control: SandboxControl,
}

impl PySandbox {
    fn client_config(
        &self,
        py: Python<'_>,
        mode: Option<&str>,
        timeout: Option<f64>,
        max_attempts: Option<u32>,
    ) -> PyResult<ClientConfig> {
        let info = check(py, self.control.info())?;
        let json = serde_json::to_string(&info)
            .map_err(|e| crate::error::to_pyerr(py, &goldplan::Error::Decode(e.to_string())))?;
        let mut config = guard(py, || ClientConfig::from_json(&json, None))?;
        if let Some(mode) = mode {
            config.mode = Some(guard(py, || mode.parse())?);
        }
        config.timeout = timeout.or(config.timeout);
        config.max_attempts = max_attempts.or(config.max_attempts);
        Ok(config)
    }
}

#[pymethods]
impl PySandbox {
    /// Starts a sandbox on 127.0.0.1 with a random port; `options` is a dict of `mchid`,
    /// `mode`, `sub_mchids`, `settings` (a settings patch) and `state_dir`.
    #[staticmethod]
    fn start(py: Python<'_>, options: &Bound<'_, PyAny>) -> PyResult<PySandbox> {
        let options: StartOptions = from_py(options, "sandbox options")?;
        let mut config = SandboxConfig::default();
        if let Some(m) = options.mchid {
            config.mchid = m;
        }
        if let Some(mode) = options.mode {
            config.mode = mode;
        }
        if let Some(subs) = options.sub_mchids {
            config.sub_mchids = subs;
        }
        if let Some(patch) = options.settings {
            config.settings = Settings::default()
                .patched(&patch)
                .map_err(|m| sandbox_error(py, SandboxError::InvalidInput(m)))?;
        }
        config.state_dir = options.state_dir;
        let handle = runtime::block_on_plain(py, Sandbox::start(config))?;
        let handle = check(py, handle)?;
        Ok(PySandbox {
            control: handle.control(),
            handle: Mutex::new(Some(handle)),
        })
    }

    /// Stops the server gracefully (idempotent).
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        let handle = self
            .handle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(h) = handle {
            check(py, runtime::block_on_plain(py, h.shutdown())?)?;
        }
        Ok(())
    }

    /// Whether the server is running.
    #[getter]
    fn running(&self) -> bool {
        self.handle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// `http://127.0.0.1:PORT`.
    #[getter]
    fn base_url(&self) -> &str {
        self.control.base_url()
    }

    /// What `sandbox.json` holds (keys included: test keys only).
    fn info(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let info = check(py, self.control.info())?;
        to_py(py, &info)
    }

    /// A blocking client for the built-in provider, configured from `sandbox.json`; `mode`
    /// overrides the verification mode (`certificate`, `combined`, `public_key`).
    #[pyo3(signature = (*, mode=None, timeout=None, max_attempts=None))]
    fn client(
        &self,
        py: Python<'_>,
        mode: Option<&str>,
        timeout: Option<f64>,
        max_attempts: Option<u32>,
    ) -> PyResult<PyClient> {
        let config = self.client_config(py, mode, timeout, max_attempts)?;
        Ok(PyClient::from_shared(Shared::new(py, config)?))
    }

    /// The same, as an `AsyncClient`.
    #[pyo3(signature = (*, mode=None, timeout=None, max_attempts=None))]
    fn async_client(
        &self,
        py: Python<'_>,
        mode: Option<&str>,
        timeout: Option<f64>,
        max_attempts: Option<u32>,
    ) -> PyResult<PyAsyncClient> {
        let config = self.client_config(py, mode, timeout, max_attempts)?;
        Ok(PyAsyncClient::from_shared(Shared::new(py, config)?))
    }

    fn clock(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.control.clock_view())
    }

    fn advance_clock(&self, py: Python<'_>, seconds: i64) -> PyResult<Py<PyAny>> {
        let view = check(py, self.control.advance_clock(seconds))?;
        to_py(py, &view)
    }

    fn reset_clock(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let view = check(py, self.control.reset_clock())?;
        to_py(py, &view)
    }

    fn settings(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.control.settings())
    }

    fn update_settings(&self, py: Python<'_>, patch: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let patch: serde_json::Value = from_py(patch, "settings")?;
        let settings = check(py, self.control.update_settings(&patch))?;
        to_py(py, &settings)
    }

    fn register_merchant(
        &self,
        py: Python<'_>,
        registration: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let r: MerchantRegistration = from_py(registration, "merchant")?;
        let view = check(py, self.control.register_merchant(r))?;
        to_py(py, &view)
    }

    fn merchants(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.control.merchants())
    }

    fn merchant(&self, py: Python<'_>, mchid: &str) -> PyResult<Py<PyAny>> {
        let view = check(py, self.control.merchant(mchid))?;
        to_py(py, &view)
    }

    fn update_merchant(
        &self,
        py: Python<'_>,
        mchid: &str,
        patch: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let patch: MerchantPatch = from_py(patch, "merchant patch")?;
        let view = check(py, self.control.update_merchant(mchid, patch))?;
        to_py(py, &view)
    }

    fn add_sub_merchant(
        &self,
        py: Python<'_>,
        mchid: &str,
        registration: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let r: SubMerchantRegistration = from_py(registration, "sub-merchant")?;
        let state = check(py, self.control.add_sub_merchant(mchid, r))?;
        to_py(py, &state)
    }

    fn sub_merchant(&self, py: Python<'_>, mchid: &str, sub_mchid: &str) -> PyResult<Py<PyAny>> {
        let state = check(py, self.control.sub_merchant(mchid, sub_mchid))?;
        to_py(py, &state)
    }

    fn update_sub_merchant(
        &self,
        py: Python<'_>,
        mchid: &str,
        sub_mchid: &str,
        patch: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let patch: SubMerchantPatch = from_py(patch, "sub-merchant patch")?;
        let state = check(
            py,
            self.control.update_sub_merchant(mchid, sub_mchid, patch),
        )?;
        to_py(py, &state)
    }

    fn platform_certificates(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.control.platform_certificates())
    }

    fn rotate_platform_certificate(
        &self,
        py: Python<'_>,
        request: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let r: RotateRequest = from_py(request, "rotation")?;
        let control = self.control.clone();
        let outcome =
            runtime::block_on_plain(
                py,
                async move { control.rotate_platform_certificate(r).await },
            )?;
        to_py(py, &check(py, outcome)?)
    }

    fn expire_platform_certificate(&self, py: Python<'_>, serial_no: &str) -> PyResult<()> {
        check(py, self.control.expire_platform_certificate(serial_no))
    }

    fn inject_fault(&self, py: Python<'_>, fault: &Bound<'_, PyAny>) -> PyResult<()> {
        let f: Fault = from_py(fault, "fault")?;
        check(py, self.control.inject_fault(f))
    }

    fn faults(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.control.faults())
    }

    fn clear_faults(&self) {
        self.control.clear_faults();
    }

    fn send_callback(&self, py: Python<'_>, request: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let r: CallbackRequest = from_py(request, "callback")?;
        let control = self.control.clone();
        let record = runtime::block_on_plain(py, async move { control.send_callback(r).await })?;
        to_py(py, &check(py, record)?)
    }

    fn wait_for_callback(&self, py: Python<'_>, id: String, timeout: f64) -> PyResult<Py<PyAny>> {
        let timeout = Duration::try_from_secs_f64(timeout).map_err(|e| {
            crate::error::to_pyerr(py, &goldplan::Error::InvalidInput(e.to_string()))
        })?;
        let control = self.control.clone();
        let record =
            runtime::block_on_plain(
                py,
                async move { control.wait_for_callback(&id, timeout).await },
            )?;
        to_py(py, &check(py, record)?)
    }

    fn callbacks(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.control.callbacks())
    }

    fn callback(&self, py: Python<'_>, id: &str) -> PyResult<Py<PyAny>> {
        let record = check(py, self.control.callback(id))?;
        to_py(py, &record)
    }

    fn requests(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.control.requests())
    }

    fn clear_requests(&self) {
        self.control.clear_requests();
    }

    fn media(&self, py: Python<'_>, media_id: &str) -> PyResult<Py<PyAny>> {
        let record = check(py, self.control.media(media_id))?;
        to_py(py, &record)
    }

    fn __repr__(&self) -> String {
        format!(
            "_Sandbox(base_url={:?}, running={})",
            self.control.base_url(),
            self.running()
        )
    }
}

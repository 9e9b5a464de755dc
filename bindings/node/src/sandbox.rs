//! The WeChat Pay sandbox (`goldplan-sandbox`) in-process, for `goldplan/testing` (feature
//! `testing`, built only into the testing addon): start it on napi's runtime and drive its
//! admin operations through the library API (no HTTP).
//!
//! Arguments and results are the sandbox's own serde types as JSON text, so nothing of the
//! sandbox model is repeated here; the facade (`testing.cjs`) gives each admin operation a
//! named method.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use goldplan_sandbox::{
    CallbackRequest, Fault, KeyMode, MerchantPatch, MerchantRegistration, RotateRequest, Sandbox,
    SandboxConfig, SandboxControl, SandboxError, SandboxHandle, Settings, SubMerchantPatch,
    SubMerchantRegistration,
};
use napi::Env;
use napi::bindgen_prelude::PromiseRaw;
use napi_derive::napi;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{guard_async, invalid_input, report_error, spawn_owned, to_napi};

/// A sandbox failure as a report: core and input errors keep their kinds; anything else is of
/// kind and family `sandbox` with the sandbox's error code.
fn sandbox_error(e: SandboxError) -> napi::Error {
    match e {
        SandboxError::Core(core) => to_napi(&core),
        SandboxError::InvalidInput(m) => to_napi(&goldplan::Error::InvalidInput(m)),
        other => report_error(
            serde_json::json!({
                "kind": "sandbox",
                "family": "sandbox",
                "message": format!("sandbox: {other}"),
                "request_id": null,
                "retryable": false,
                "code": other.code(),
            })
            .to_string(),
        ),
    }
}

fn check<T>(r: Result<T, SandboxError>) -> napi::Result<T> {
    r.map_err(sandbox_error)
}

fn parse<T: DeserializeOwned>(value: &Value, what: &str) -> napi::Result<T> {
    serde_json::from_value(value.clone()).map_err(|e| invalid_input(format!("{what}: {e}")))
}

fn text(value: &Value, name: &str) -> napi::Result<String> {
    value
        .get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| invalid_input(format!("{name} must be a string")))
}

fn json<T: Serialize>(value: &T) -> napi::Result<String> {
    serde_json::to_string(value).map_err(|e| invalid_input(format!("cannot encode: {e}")))
}

/// How `Sandbox.start` configures a sandbox (all optional).
#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct StartOptions {
    mchid: Option<String>,
    mode: Option<KeyMode>,
    sub_mchids: Option<Vec<String>>,
    settings: Option<Value>,
    state_dir: Option<PathBuf>,
}

/// A running in-process sandbox.
#[napi]
pub struct NativeSandbox {
    /// `None` once stopped.
    handle: Mutex<Option<SandboxHandle>>,
    control: SandboxControl,
}

#[napi]
impl NativeSandbox {
    /// Starts a sandbox on 127.0.0.1 with a random port; `options` is JSON with `mchid`,
    /// `mode`, `sub_mchids`, `settings` (a settings patch) and `state_dir`.
    #[napi]
    pub async fn start(options_json: String) -> napi::Result<NativeSandbox> {
        let options: StartOptions = serde_json::from_str(&options_json)
            .map_err(|e| invalid_input(format!("sandbox options: {e}")))?;
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
                .map_err(|m| sandbox_error(SandboxError::InvalidInput(m)))?;
        }
        config.state_dir = options.state_dir;
        let handle = guard_async(async move { Ok(Sandbox::start(config).await) }).await?;
        let handle = check(handle)?;
        Ok(NativeSandbox {
            control: handle.control(),
            handle: Mutex::new(Some(handle)),
        })
    }

    /// `http://127.0.0.1:PORT`.
    #[napi(getter, js_name = "baseUrl")]
    pub fn base_url(&self) -> String {
        self.control.base_url().to_owned()
    }

    /// Whether the server is running.
    #[napi(getter)]
    pub fn running(&self) -> bool {
        self.handle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// Stops the server gracefully (idempotent).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn stop<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, ()>> {
        // Taken on the JS thread: the future owns the handle, not this object (see `spawn_owned`).
        let handle = self
            .handle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        spawn_owned(env, async move {
            if let Some(h) = handle {
                let done = guard_async(async move { Ok(h.shutdown().await) }).await?;
                check(done)?;
            }
            Ok(())
        })
    }

    /// Runs one admin operation with its arguments as JSON; the result as JSON text. The
    /// operations are the methods of `SandboxControl` (`info`, `advance_clock`,
    /// `rotate_platform_certificate`, `send_callback`, …).
    #[napi]
    pub fn admin<'env>(
        &self,
        env: &'env Env,
        operation: String,
        arguments_json: String,
    ) -> napi::Result<PromiseRaw<'env, String>> {
        let control = self.control.clone();
        spawn_owned(env, admin(control, operation, arguments_json))
    }
}

/// One admin operation on a control handle the future owns.
async fn admin(
    c: SandboxControl,
    operation: String,
    arguments_json: String,
) -> napi::Result<String> {
    let a: Value = serde_json::from_str(&arguments_json)
        .map_err(|e| invalid_input(format!("arguments of {operation}: {e}")))?;
    match operation.as_str() {
        "info" => json(&check(c.info())?),
        "clock" => json(&c.clock_view()),
        "advance_clock" => {
            let secs = a
                .get("seconds")
                .and_then(Value::as_i64)
                .ok_or_else(|| invalid_input("seconds must be an integer"))?;
            json(&check(c.advance_clock(secs))?)
        }
        "reset_clock" => json(&check(c.reset_clock())?),
        "settings" => json(&c.settings()),
        "update_settings" => json(&check(c.update_settings(&a))?),
        "register_merchant" => {
            let r: MerchantRegistration = parse(&a, "merchant")?;
            json(&check(c.register_merchant(r))?)
        }
        "merchants" => json(&c.merchants()),
        "merchant" => json(&check(c.merchant(&text(&a, "mchid")?))?),
        "update_merchant" => {
            let patch: MerchantPatch = parse(&a["patch"], "merchant patch")?;
            json(&check(c.update_merchant(&text(&a, "mchid")?, patch))?)
        }
        "add_sub_merchant" => {
            let r: SubMerchantRegistration = parse(&a["registration"], "sub-merchant")?;
            json(&check(c.add_sub_merchant(&text(&a, "mchid")?, r))?)
        }
        "sub_merchant" => json(&check(
            c.sub_merchant(&text(&a, "mchid")?, &text(&a, "sub_mchid")?),
        )?),
        "update_sub_merchant" => {
            let patch: SubMerchantPatch = parse(&a["patch"], "sub-merchant patch")?;
            json(&check(c.update_sub_merchant(
                &text(&a, "mchid")?,
                &text(&a, "sub_mchid")?,
                patch,
            ))?)
        }
        "platform_certificates" => json(&c.platform_certificates()),
        "rotate_platform_certificate" => {
            let r: RotateRequest = parse(&a, "rotation")?;
            json(&check(c.rotate_platform_certificate(r).await)?)
        }
        "expire_platform_certificate" => {
            check(c.expire_platform_certificate(&text(&a, "serial_no")?))?;
            Ok("null".to_owned())
        }
        "inject_fault" => {
            let f: Fault = parse(&a, "fault")?;
            check(c.inject_fault(f))?;
            Ok("null".to_owned())
        }
        "faults" => json(&c.faults()),
        "clear_faults" => {
            c.clear_faults();
            Ok("null".to_owned())
        }
        "send_callback" => {
            let r: CallbackRequest = parse(&a, "callback")?;
            json(&check(c.send_callback(r).await)?)
        }
        "wait_for_callback" => {
            let secs = a.get("timeout").and_then(Value::as_f64).unwrap_or(10.0);
            let timeout = Duration::try_from_secs_f64(secs)
                .map_err(|e| invalid_input(format!("timeout: {e}")))?;
            json(&check(
                c.wait_for_callback(&text(&a, "id")?, timeout).await,
            )?)
        }
        "callbacks" => json(&c.callbacks()),
        "callback" => json(&check(c.callback(&text(&a, "id")?))?),
        "requests" => json(&c.requests()),
        "clear_requests" => {
            c.clear_requests();
            Ok("null".to_owned())
        }
        "media" => json(&check(c.media(&text(&a, "media_id")?))?),
        other => Err(invalid_input(format!(
            "unknown sandbox operation {:?}",
            other.chars().take(64).collect::<String>()
        ))),
    }
}

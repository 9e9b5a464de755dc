//! The one place where core errors leave Rust: every [`goldplan::Error`] becomes a JS error
//! whose message is `GOLDPLAN_REPORT:` followed by the core's `ErrorReport` as JSON. The facade
//! (`errors.cjs`, `fromNative`) recognises the prefix and builds the `GoldPlanError` subclass of
//! the report's family, so the kind → class table exists once, in JavaScript, as in Python.
//! Panics are caught at the boundary and become reports of kind `internal`.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use goldplan::Error;
use napi::Env;
use napi::bindgen_prelude::{PromiseRaw, ToNapiValue};

/// Marks an error message that carries a report (the facade strips it).
pub(crate) const REPORT_PREFIX: &str = "GOLDPLAN_REPORT:";

/// The napi error carrying a core error's report.
pub(crate) fn to_napi(error: &Error) -> napi::Error {
    report_error(error.report().to_json())
}

/// The napi error carrying an already serialised report.
pub(crate) fn report_error(report_json: String) -> napi::Error {
    napi::Error::new(
        napi::Status::GenericFailure,
        format!("{REPORT_PREFIX}{report_json}"),
    )
}

/// An `invalid_input` error (bad arguments detected in this crate).
pub(crate) fn invalid_input(message: impl Into<String>) -> napi::Error {
    to_napi(&Error::InvalidInput(message.into()))
}

/// The `internal` error for a panic caught at the boundary.
pub(crate) fn internal(panic: &(dyn Any + Send)) -> napi::Error {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    to_napi(&Error::Internal(what))
}

/// A core result as a napi result.
pub(crate) fn check<T>(result: goldplan::Result<T>) -> napi::Result<T> {
    result.map_err(|e| to_napi(&e))
}

/// Runs synchronous core work, turning an error or a panic into a report.
pub(crate) fn guard<T>(f: impl FnOnce() -> goldplan::Result<T>) -> napi::Result<T> {
    match std::panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => check(result),
        Err(panic) => Err(internal(&*panic)),
    }
}

/// Awaits a core future, turning an error or a panic while polling into a report.
pub(crate) async fn guard_async<T>(
    fut: impl Future<Output = goldplan::Result<T>>,
) -> napi::Result<T> {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(result) => check(result),
        Err(panic) => Err(internal(&*panic)),
    }
}

/// Runs `work` on napi's runtime; its Promise settles on the JS thread that called.
///
/// The bounds are the point: `work` owns all it touches (a clone of the core client, copies of
/// the arguments), never a `&self` of a JS-owned object. A worker thread that ends frees every
/// object its environment created, the one whose method spawned `work` included, while `work`
/// keeps running on a runtime thread. Its result is plain Rust data, so when the environment is
/// gone and napi drops the result unsettled on the runtime thread, no JS state is touched.
pub(crate) fn spawn_owned<'env, T, F>(env: &'env Env, work: F) -> napi::Result<PromiseRaw<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = napi::Result<T>> + Send + 'static,
{
    env.spawn_future(work)
}

/// The report of a replay of notification `id`, as JSON text: the facade's replay guard runs in
/// JavaScript (after the native parse verified and decrypted the callback, where the core's own
/// parser calls its guard), and a duplicate becomes the core's replay error.
#[napi_derive::napi(js_name = "replayReport")]
pub fn replay_report(id: String) -> String {
    Error::Replay { id }.report().to_json()
}

/// The report of an error the facade detects itself (a wrong argument type, an unknown
/// option): `kind` is `invalid_input` or `configuration`; anything else is `invalid_input`.
#[napi_derive::napi(js_name = "inputErrorReport")]
pub fn input_error_report(kind: String, message: String) -> String {
    let error = if kind == "configuration" {
        Error::Configuration(message)
    } else {
        Error::InvalidInput(message)
    };
    error.report().to_json()
}

/// Panics on purpose, to show that a panic surfaces as an `InternalError` (tests only).
#[napi_derive::napi(js_name = "_panicForTests")]
pub async fn panic_for_tests() -> napi::Result<()> {
    guard_async(async {
        if std::hint::black_box(true) {
            #[allow(clippy::panic)]
            {
                panic!("deliberate panic for the boundary test");
            }
        }
        Ok(())
    })
    .await
}

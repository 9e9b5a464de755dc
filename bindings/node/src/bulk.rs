//! The native half of `goldplan`'s `bulk`: the bulk crate's JSON surface
//! (`goldplan_bulk::surface`), translated. JSON text in and out. A run is a [`NativeBulkJob`]
//! whose events the facade pulls in batches (`nextEvents`) and hands to its callback on the JS
//! thread, one at a time, while the job runs on napi's runtime.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::FutureExt;
use goldplan_bulk::CancellationToken;
use goldplan_bulk::surface::{self, SurfaceError};
use napi::Env;
use napi::bindgen_prelude::PromiseRaw;
use napi_derive::napi;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use crate::client::NativeClient;
use crate::error::{internal, report_error, spawn_owned};

/// A surface error as the napi error carrying its report (the core's members plus
/// `problems`, a refused plan's `{line, column, message}` objects).
fn to_napi(error: &SurfaceError) -> napi::Error {
    report_error(error.to_json().to_string())
}

/// Runs a synchronous surface function (a panic becomes an `internal` report).
fn guard<T>(f: impl FnOnce() -> Result<T, SurfaceError>) -> napi::Result<T> {
    match std::panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result.map_err(|e| to_napi(&e)),
        Err(panic) => Err(internal(&*panic)),
    }
}

/// The run options with the library's defaults, as JSON text.
#[napi(js_name = "bulkDefaultOptions")]
pub fn bulk_default_options() -> String {
    surface::default_options()
}

/// Validates a plan source (JSON text); returns the plan's summary as JSON text.
#[napi(js_name = "bulkCheckPlan")]
pub fn bulk_check_plan(source: String) -> napi::Result<String> {
    guard(|| surface::check_plan(&source))
}

/// The report of a journal's job, as JSON text.
#[napi(js_name = "bulkReport")]
pub fn bulk_report(journal: String) -> napi::Result<String> {
    guard(|| surface::report(&journal))
}

/// Moves a journal's failed operations back to pending; returns how many.
#[napi(js_name = "bulkRetryFailed")]
pub fn bulk_retry_failed(journal: String, include_reopen_too_soon: bool) -> napi::Result<i64> {
    let n = guard(|| surface::retry_failed(&journal, include_reopen_too_soon))?;
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
}

type Job = Pin<Box<dyn Future<Output = Result<String, SurfaceError>> + Send>>;

/// A bulk run: started by `finish`, its events pulled with `nextEvents`.
#[napi]
pub struct NativeBulkJob {
    job: Mutex<Option<Job>>,
    events: Arc<tokio::sync::Mutex<UnboundedReceiver<String>>>,
    cancel: CancellationToken,
}

/// Prepares a run of a plan's job with `client` (nothing starts before `finish`). Events are
/// queued only when `wantsEvents`.
#[napi(js_name = "bulkRun")]
pub fn bulk_run(
    client: &NativeClient,
    source: String,
    journal: String,
    options: String,
    wants_events: bool,
) -> NativeBulkJob {
    let client = client.core();
    let (tx, rx) = unbounded_channel::<String>();
    let cancel = CancellationToken::new();
    let job_cancel = cancel.clone();
    let job: Job = Box::pin(async move {
        surface::run_with_cancellation(
            client,
            &source,
            &journal,
            &options,
            move |event| {
                if wants_events {
                    // Fails only once the facade stopped listening.
                    let _ = tx.send(event.to_owned());
                }
            },
            job_cancel,
        )
        .await
    });
    NativeBulkJob {
        job: Mutex::new(Some(job)),
        events: Arc::new(tokio::sync::Mutex::new(rx)),
        cancel,
    }
}

#[napi]
impl NativeBulkJob {
    /// Runs the job; resolves with the summary as JSON text (call once).
    #[napi]
    pub fn finish<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, String>> {
        let job = self
            .job
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        spawn_owned(env, async move {
            let Some(job) = job else {
                return Err(crate::error::invalid_input(
                    "this bulk run was started already",
                ));
            };
            match AssertUnwindSafe(job).catch_unwind().await {
                Ok(result) => result.map_err(|e| to_napi(&e)),
                Err(panic) => Err(internal(&*panic)),
            }
        })
    }

    /// The next events (JSON text each), waiting for at least one; `null` once the run ended
    /// and every event was taken.
    #[napi(js_name = "nextEvents")]
    pub fn next_events<'env>(
        &self,
        env: &'env Env,
    ) -> napi::Result<PromiseRaw<'env, Option<Vec<String>>>> {
        let events = Arc::clone(&self.events);
        spawn_owned(env, async move {
            let mut rx = events.lock().await;
            let mut batch = Vec::new();
            let n = rx.recv_many(&mut batch, 256).await;
            Ok((n > 0).then_some(batch))
        })
    }

    /// Stops the run: no new operation starts; those in flight finish and are journaled.
    #[napi]
    pub fn cancel(&self) {
        self.cancel.cancel();
    }
}

//! The native addon of the npm package `goldplan` (napi-rs v3).
//!
//! This crate translates types and errors and nothing else: every behaviour is the core's
//! (`goldplan`). The typed calls cross the core's JSON surface (`Client::call_json`); errors
//! cross as the core's `ErrorReport` (see the `error` module) and the JS facade
//! (`errors.cjs`) turns them into `GoldPlanError` subclasses in one place.
//!
//! Runtime: calls run on napi's own tokio runtime (`Env::spawn_future`), not on
//! `goldplan_host`'s fork-aware one. Node never `fork()`s a running process (the cluster module
//! and `child_process.fork` spawn a fresh process that loads the addon anew), so fork awareness
//! buys nothing here, while napi's runtime is the one its Promise plumbing and its
//! worker-thread reference counting are built around. A spawned future owns everything it
//! touches, because a worker thread that ends frees its objects while their calls still run
//! (`error::spawn_owned`).

// `#[napi]` expands to `extern "C"` callbacks and `unsafe` blocks around N-API calls, so the
// `unsafe_code` lint that every other crate root forbids cannot be denied here. No hand-written
// `unsafe` exists in this crate.
#![allow(unsafe_code)]

use goldplan::ErrorKind;
use goldplan::gold_plan::{IndustryType, OperationPayScene, OperationType};
use napi_derive::napi;

pub mod bulk;
pub mod client;
pub mod error;
pub mod protocol;
#[cfg(feature = "testing")]
pub mod sandbox;

/// The library version and the core's enums and limits, as JSON text: `version`, `kinds`
/// (every error kind), `families` (kind → family), `operationTypes`, `operationPayScenes`,
/// `industryTypes`, `maxIndustryFilters`, `maxSensitivePlaintextLen`, `hasSandbox`.
#[napi(js_name = "nativeConstants")]
pub fn native_constants() -> String {
    let names = |all: &[&str]| all.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let families: serde_json::Map<String, serde_json::Value> = ErrorKind::ALL
        .iter()
        .map(|k| (k.as_str().to_owned(), k.family().as_str().into()))
        .collect();
    serde_json::json!({
        "version": goldplan::client::VERSION,
        "kinds": ErrorKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        "families": families,
        "operationTypes": names(&OperationType::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>()),
        "operationPayScenes": names(&OperationPayScene::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>()),
        "industryTypes": names(&IndustryType::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>()),
        "maxIndustryFilters": goldplan::gold_plan::MAX_INDUSTRY_FILTERS,
        "maxSensitivePlaintextLen": goldplan::sensitive::MAX_PLAINTEXT_LEN_RSA2048,
        "hasSandbox": cfg!(feature = "testing"),
    })
    .to_string()
}

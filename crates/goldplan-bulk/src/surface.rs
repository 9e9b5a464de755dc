//! The JSON surface of the bulk job, for the language bindings (Python `goldplan.bulk`, Node
//! `goldplan.bulk`): every function takes and returns JSON text, so that a binding only
//! translates its own values to and from JSON and maps [`SurfaceError`] to its error classes.
//! Every rule, default and message stays here (and in the modules behind it).
//!
//! | function | takes | returns |
//! |---|---|---|
//! | [`check_plan`] | a plan source | `{name, sha256, format, merchants, operations, by_operation}` |
//! | [`run`] | a client, a plan source, a journal path, options, an event sink | the [`RunSummary`](crate::RunSummary) |
//! | [`report`] | a journal path | the [`Report`](crate::Report): `{job, merchants: [row, …]}` |
//! | [`retry_failed`] | a journal path, whether to include 24-hour refusals | the count moved |
//! | [`default_options`] | — | the run options with the crate's defaults |
//!
//! A **plan source** is one of
//! - `{"path": "rollout.csv"}` — a plan file (CSV with a header, or JSON Lines);
//! - `{"name": "rollout", "rows": [{"sub_mchid": "…", "gold_plan": "OPEN", …}, …]}` — rows as
//!   objects (row `i` is reported as line `i + 1`); `name` is optional;
//! - `{"name": "rollout.csv", "text": "…", "format": "csv" | "jsonl"}` — plan text; `format` is
//!   optional (detected from the name and the content).
//!
//! **Run options** (every member optional; [`default_options`] lists the defaults):
//! `concurrency`, `rate_per_sec` (`null`: no rate of our own), `burst`, `min_rate_per_sec`,
//! `max_attempts`, `max_rate_limited_attempts`, `base_delay_ms`, `max_delay_ms`, `dry_run`,
//! `progress_interval_ms`. Unknown members are refused.
//!
//! **The client** must send each call once: build it with `max_attempts = 1` (the Python and
//! Node clients take `max_attempts=1` / `maxAttempts: 1`; in Rust,
//! `RetryPolicy { max_attempts: 1, .. }`). The runner retries by itself and must see every
//! 命中频率限制 answer to slow down in time; a client that retries internally still works, it
//! only adapts later and counts fewer answers. The core gives no way to change the retry
//! policy of a built client, so this module cannot do it for the caller.
//!
//! **Events** reach the sink as JSON text, one [`Event`](crate::Event) each (`{"event":
//! "done", …}`), from the runner's tasks: a binding queues them for its own thread.

use std::collections::BTreeMap;
use std::time::Duration;

use goldplan::{Client, ErrorKind, ErrorReport};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::error::BulkError;
use crate::journal::Journal;
use crate::plan::{Plan, PlanFormat, PlanProblem};
use crate::runner::{RunOptions, Runner};

/// A failure of a surface function, as the bindings raise it: the core error it maps to (whose
/// kind picks the binding's error class) and, when a plan was refused, its problems.
///
/// Kinds: a plan with problems, a bad argument, an unreadable plan file, a journal of another
/// plan or not a journal are `invalid_input`; a core error keeps its kind; a database failure
/// or a broken invariant is `internal`.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct SurfaceError {
    /// The core error (its message is the bulk error's, naming every plan problem).
    pub error: goldplan::Error,
    /// The plan's problems, each with its file line; empty unless a plan was refused.
    pub problems: Vec<PlanProblem>,
}

impl SurfaceError {
    fn invalid(message: impl Into<String>) -> SurfaceError {
        SurfaceError {
            error: goldplan::Error::InvalidInput(message.into()),
            problems: Vec::new(),
        }
    }

    /// The error kind (`invalid_input` for a plan with problems).
    pub fn kind(&self) -> ErrorKind {
        self.error.kind()
    }

    /// The core's error report of [`SurfaceError::error`].
    pub fn report(&self) -> ErrorReport {
        self.error.report()
    }

    /// The error as JSON: the members of the core's [`ErrorReport`] plus `problems` (`[{line,
    /// column, message}, …]`, empty unless a plan was refused).
    pub fn to_json(&self) -> Value {
        let mut value = serde_json::to_value(self.report()).unwrap_or_else(|_| json!({}));
        if let Value::Object(map) = &mut value {
            map.insert(
                "problems".into(),
                serde_json::to_value(&self.problems).unwrap_or_else(|_| json!([])),
            );
        }
        value
    }
}

impl From<BulkError> for SurfaceError {
    fn from(e: BulkError) -> SurfaceError {
        let message = e.to_string();
        match e {
            BulkError::Plan(p) => SurfaceError {
                error: goldplan::Error::InvalidInput(message),
                problems: p.problems,
            },
            BulkError::Core(error) => SurfaceError {
                error,
                problems: Vec::new(),
            },
            BulkError::Io { .. }
            | BulkError::InvalidInput(_)
            | BulkError::PlanMismatch { .. }
            | BulkError::Journal { .. } => SurfaceError::invalid(message),
            _ => SurfaceError {
                error: goldplan::Error::Internal(message),
                problems: Vec::new(),
            },
        }
    }
}

/// Result with [`SurfaceError`].
pub type SurfaceResult<T> = std::result::Result<T, SurfaceError>;

fn parse<T: for<'de> Deserialize<'de>>(text: &str, what: &str) -> SurfaceResult<T> {
    serde_json::from_str(text).map_err(|e| SurfaceError::invalid(format!("{what}: {e}")))
}

fn to_text(value: &impl serde::Serialize) -> SurfaceResult<String> {
    serde_json::to_string(value).map_err(|e| SurfaceError {
        error: goldplan::Error::Internal(format!("cannot serialise a result: {e}")),
        problems: Vec::new(),
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Source {
    path: Option<String>,
    name: Option<String>,
    rows: Option<Vec<Value>>,
    text: Option<String>,
    format: Option<String>,
}

/// Reads and validates the plan a source names (see the module documentation).
pub fn load_plan(source: &str) -> SurfaceResult<Plan> {
    let s: Source = parse(source, "the plan source")?;
    let given = [s.path.is_some(), s.rows.is_some(), s.text.is_some()]
        .iter()
        .filter(|b| **b)
        .count();
    if given != 1 {
        return Err(SurfaceError::invalid(
            "a plan source has exactly one of `path`, `rows` and `text`",
        ));
    }
    if s.format.is_some() && s.text.is_none() {
        return Err(SurfaceError::invalid(
            "`format` goes with `text` only (a file's format is detected, rows are JSON)",
        ));
    }
    if let Some(path) = s.path {
        if s.name.is_some() {
            return Err(SurfaceError::invalid(
                "a plan file is named by its path: give `path` without `name`",
            ));
        }
        return Ok(Plan::from_path(path)?);
    }
    let name = s.name.as_deref().unwrap_or("rows");
    if let Some(rows) = s.rows {
        return Plan::from_rows(name, &rows).map_err(|e| BulkError::Plan(e).into());
    }
    let text = s.text.unwrap_or_default();
    let format = match s.format.as_deref() {
        None => None,
        Some("csv") => Some(PlanFormat::Csv),
        Some("jsonl" | "json_lines") => Some(PlanFormat::JsonLines),
        Some(other) => {
            return Err(SurfaceError::invalid(format!(
                "the plan format {other:?} is not one of \"csv\", \"jsonl\""
            )));
        }
    };
    Plan::parse(name, &text, format).map_err(|e| BulkError::Plan(e).into())
}

/// Validates a plan without sending anything: `{name, sha256, format, merchants, operations,
/// by_operation: {operation: count}}`, or an `invalid_input` [`SurfaceError`] listing every
/// problem with its line.
pub fn check_plan(source: &str) -> SurfaceResult<String> {
    let plan = load_plan(source)?;
    let operations = plan.operations();
    let mut by_operation = BTreeMap::<&str, u64>::new();
    for op in &operations {
        *by_operation.entry(op.operation.as_str()).or_default() += 1;
    }
    to_text(&json!({
        "name": plan.source_name(),
        "sha256": plan.sha256(),
        "format": plan.format(),
        "merchants": plan.merchants().len(),
        "operations": operations.len(),
        "by_operation": by_operation,
    }))
}

/// `Some(value)` whenever the member is present, `null` included (`rate_per_sec: null` turns
/// the rate off, while a missing member keeps the default).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<f64>>, D::Error> {
    Option::<f64>::deserialize(d).map(Some)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    concurrency: Option<usize>,
    #[serde(default, deserialize_with = "present")]
    rate_per_sec: Option<Option<f64>>,
    burst: Option<u32>,
    min_rate_per_sec: Option<f64>,
    max_attempts: Option<u32>,
    max_rate_limited_attempts: Option<u32>,
    base_delay_ms: Option<u64>,
    max_delay_ms: Option<u64>,
    dry_run: Option<bool>,
    progress_interval_ms: Option<u64>,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The run options with the crate's defaults, as JSON (what a binding shows as its defaults).
pub fn default_options() -> String {
    let d = RunOptions::default();
    json!({
        "concurrency": d.concurrency,
        "rate_per_sec": d.rate_per_sec,
        "burst": d.burst,
        "min_rate_per_sec": d.min_rate_per_sec,
        "max_attempts": d.max_attempts,
        "max_rate_limited_attempts": d.max_rate_limited_attempts,
        "base_delay_ms": millis(d.base_delay),
        "max_delay_ms": millis(d.max_delay),
        "dry_run": d.dry_run,
        "progress_interval_ms": millis(d.progress_interval),
    })
    .to_string()
}

/// Run options from JSON (`""` or `null`: the defaults).
pub fn run_options(options: &str) -> SurfaceResult<RunOptions> {
    let o: Options = if options.trim().is_empty() {
        Options::default()
    } else {
        parse::<Option<Options>>(options, "the run options")?.unwrap_or_default()
    };
    let d = RunOptions::default();
    Ok(RunOptions {
        concurrency: o.concurrency.unwrap_or(d.concurrency),
        rate_per_sec: o.rate_per_sec.unwrap_or(d.rate_per_sec),
        burst: o.burst.unwrap_or(d.burst),
        min_rate_per_sec: o.min_rate_per_sec.unwrap_or(d.min_rate_per_sec),
        max_attempts: o.max_attempts.unwrap_or(d.max_attempts),
        max_rate_limited_attempts: o
            .max_rate_limited_attempts
            .unwrap_or(d.max_rate_limited_attempts),
        base_delay: o.base_delay_ms.map_or(d.base_delay, Duration::from_millis),
        max_delay: o.max_delay_ms.map_or(d.max_delay, Duration::from_millis),
        dry_run: o.dry_run.unwrap_or(d.dry_run),
        progress_interval: o
            .progress_interval_ms
            .map_or(d.progress_interval, Duration::from_millis),
    })
}

/// Runs a plan's job: opens (or continues) the journal at `journal_path` for the plan of
/// `source`, sends its pending operations with `client` under `options` (JSON, see the module
/// documentation), and calls `on_event` with each event as JSON text. Returns the
/// [`RunSummary`](crate::RunSummary) as JSON. Everything is checked before anything is sent.
pub async fn run(
    client: Client,
    source: &str,
    journal_path: &str,
    options: &str,
    on_event: impl Fn(&str) + Send + Sync + 'static,
) -> SurfaceResult<String> {
    run_with_cancellation(
        client,
        source,
        journal_path,
        options,
        on_event,
        CancellationToken::new(),
    )
    .await
}

/// [`run`] that stops when `cancel` is cancelled: no new operation starts, those on the wire
/// finish and are journaled, and the summary says `cancelled` (run again to continue).
pub async fn run_with_cancellation(
    client: Client,
    source: &str,
    journal_path: &str,
    options: &str,
    on_event: impl Fn(&str) + Send + Sync + 'static,
    cancel: CancellationToken,
) -> SurfaceResult<String> {
    let options = run_options(options)?;
    let plan = load_plan(source)?;
    let journal = Journal::open(journal_path, &plan)?;
    let runner = Runner::new(client, journal, options)
        .with_cancellation(cancel)
        .on_event(move |e| {
            if let Ok(text) = serde_json::to_string(e) {
                on_event(&text);
            }
        });
    let summary = runner.run().await?;
    to_text(&summary)
}

/// The report of the job in the journal at `journal_path`, as JSON: `{job, merchants: [one
/// row per special merchant, in plan order]}` (see [`Report`](crate::Report)).
pub fn report(journal_path: &str) -> SurfaceResult<String> {
    let journal = Journal::open_existing(journal_path)?;
    let report = crate::report::report(&journal)?;
    to_text(&report)
}

/// Moves the failed operations of the journal at `journal_path` back to pending (those refused
/// by the 24-hour rule only with `include_reopen_too_soon`); returns how many.
pub fn retry_failed(journal_path: &str, include_reopen_too_soon: bool) -> SurfaceResult<u64> {
    let journal = Journal::open_existing(journal_path)?;
    Ok(journal.retry_failed(include_reopen_too_soon)?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_from_rows_is_checked() {
        let out = check_plan(
            r#"{"name": "r", "rows": [{"sub_mchid": "1900000109", "gold_plan": "OPEN", "custom_page": "OPEN"}]}"#,
        )
        .unwrap();
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["merchants"], 1);
        assert_eq!(v["operations"], 2);
        assert_eq!(v["format"], "json_lines");
    }

    #[test]
    fn plan_problems_name_their_lines() {
        let e = check_plan(
            r#"{"text": "sub_mchid,gold_plan\n1900000109,OPEN\nabc,OPEN\n", "format": "csv"}"#,
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert_eq!(e.problems.len(), 1);
        assert_eq!(e.problems[0].line, 3);
        let j = e.to_json();
        assert_eq!(j["kind"], "invalid_input");
        assert_eq!(j["problems"][0]["line"], 3);
    }

    #[test]
    fn sources_and_options_are_checked() {
        assert!(check_plan(r#"{"rows": [], "text": ""}"#).is_err());
        assert!(check_plan(r#"{"paths": "x"}"#).is_err());
        assert!(check_plan(r#"{"text": "", "format": "xml"}"#).is_err());
        let e = check_plan(r#"{"path": "/nonexistent/plan.csv"}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(run_options(r#"{"concurency": 2}"#).is_err());
        let o = run_options(r#"{"rate_per_sec": null, "base_delay_ms": 5}"#).unwrap();
        assert_eq!(o.rate_per_sec, None);
        assert_eq!(o.base_delay, Duration::from_millis(5));
        assert_eq!(run_options("").unwrap(), RunOptions::default());
        assert_eq!(run_options("null").unwrap(), RunOptions::default());
        let d: Value = serde_json::from_str(&default_options()).unwrap();
        assert_eq!(d["concurrency"], 8);
    }

    #[test]
    fn a_missing_journal_is_invalid_input() {
        let e = report("/nonexistent/job.db").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        let e = retry_failed("/nonexistent/job.db", false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }
}

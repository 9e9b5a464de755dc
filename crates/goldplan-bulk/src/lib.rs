//! # goldplan-bulk
//!
//! Rolls Gold Plan (点金计划) out to many special merchants as one resumable job:
//!
//! 1. [`plan`] — read a plan (CSV with a header, or JSON Lines): per special merchant the
//!    desired Gold Plan status (+ pay scene), receipt, industry filter and ad display (+ tags).
//!    The whole plan is validated before anything is sent; every problem names its file line.
//! 2. [`journal`] — an embedded SQLite database bound to the plan, holding every operation and
//!    its status, so a job survives Ctrl-C, SIGKILL and power loss and continues where it
//!    stopped; nothing confirmed is sent again.
//! 3. [`runner`] — sends the operations through `goldplan::Client::call_json` (the core's one
//!    path and validation): concurrency, a token-bucket rate that slows down when WeChat Pay
//!    answers 命中频率限制 and speeds up again, bounded retries, the 24-hour re-open rule,
//!    events for a progress bar or JSON lines, cancellation, dry runs.
//! 4. [`report`](mod@report) — per merchant, the state WeChat Pay last confirmed for each switch, when,
//!    and the Request-ID; failures with their error reports; as JSON or CSV.
//! 5. [`surface`] — the same job as functions of JSON text, for the Python and Node bindings.
//!
//! Every Gold Plan operation sets a state (OPEN/CLOSE, replace the filter), so sending one
//! twice — after a crash while it was in flight — leaves the same state. The exception is the
//! 24-hour rule (no re-open within 24 hours of a CLOSE): a plan has one row per merchant, so a
//! repeat cannot trip it, and a refusal under it is recorded with that reason, never retried.
//!
//! ```no_run
//! # async fn demo(client: goldplan::Client) -> Result<(), goldplan_bulk::BulkError> {
//! use goldplan_bulk::{Journal, Plan, RunOptions, Runner, report};
//!
//! let plan = Plan::from_path("rollout.csv")?;          // every problem, with its line
//! let journal = Journal::open("rollout.db", &plan)?;   // new, or continue the same plan
//! let runner = Runner::new(client, journal.clone(), RunOptions::default())
//!     .on_event(|e| println!("{}", serde_json::to_string(e).unwrap_or_default()));
//! let summary = runner.run().await?;
//! report(&journal)?.write_csv(std::io::stdout())?;
//! # let _ = summary; Ok(()) }
//! ```

#![forbid(unsafe_code)]

mod committer;
pub mod error;
pub mod journal;
mod limiter;
pub mod plan;
pub mod report;
pub mod runner;
pub mod surface;

pub use error::{BulkError, Result};
pub use journal::{Counts, Durability, FailureKind, JobInfo, Journal, JournalOperation, OpStatus};
pub use plan::{MerchantPlan, Plan, PlanErrors, PlanFormat, PlanProblem, PlannedOperation};
pub use report::{Confirmed, FailureRow, MerchantReport, Report, report};
pub use runner::{Event, EventSink, Progress, RunOptions, RunSummary, Runner, is_reopen_too_soon};
/// The cancellation token [`Runner`] stops on (re-exported so callers need no `tokio-util`).
pub use tokio_util::sync::CancellationToken;

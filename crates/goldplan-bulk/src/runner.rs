//! The runner: sends a journal's pending operations with a [`goldplan::Client`], `concurrency`
//! merchants at a time, under an adaptive token-bucket rate, with bounded retries, recording
//! every outcome in the journal before going on.
//!
//! One merchant's operations run in order on one task, so its dependencies hold by
//! construction (its receipt is not turned on while its Gold Plan OPEN failed: that operation is
//! marked failed, blocked by the OPEN). Different merchants run in parallel.
//!
//! Give the runner a client whose own retries are off (`RetryPolicy { max_attempts: 1, .. }`):
//! the runner retries itself, and it must see every 命中频率限制 answer to slow down in time.
//! A client that retries internally still works; it only adapts later.

use std::collections::HashMap;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use goldplan::client::Operation;
use goldplan::gold_plan::OperationType;
use goldplan::{Client, ErrorKind};
use serde::Serialize;
use serde_json::Value;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::committer::Committer;
use crate::error::{BulkError, Result};
use crate::journal::{Change, FailureKind, Journal, JournalOperation, OpStatus};
use crate::limiter::{Bucket, RateChange};

/// How a run behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    /// Merchants worked on at once (default 8).
    pub concurrency: usize,
    /// Operations per second at most (`None`: no limit of our own; the gateway's 命中频率限制
    /// still slows the run down). Default 20.
    pub rate_per_sec: Option<f64>,
    /// Operations that may start back to back after an idle spell (default 1: evenly spaced).
    pub burst: u32,
    /// The slowest the adaptive slow-down goes (default 0.5 ops/s).
    pub min_rate_per_sec: f64,
    /// Attempts per operation for retryable errors other than rate limiting (default 4).
    pub max_attempts: u32,
    /// Attempts per operation while the gateway answers 命中频率限制 (default 30, each after a
    /// back-off of at least half a second, doubling up to `max_delay`); each such answer also
    /// slows the whole run down.
    pub max_rate_limited_attempts: u32,
    /// First back-off delay after a retryable error (default 200 ms, doubling).
    pub base_delay: Duration,
    /// Longest back-off delay (default 10 s).
    pub max_delay: Duration,
    /// Report what would be sent ([`Event::WouldSend`]) and send nothing.
    pub dry_run: bool,
    /// How often a [`Event::Progress`] is emitted at most (default 250 ms).
    pub progress_interval: Duration,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            concurrency: 8,
            rate_per_sec: Some(20.0),
            burst: 1,
            min_rate_per_sec: 0.5,
            max_attempts: 4,
            max_rate_limited_attempts: 30,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            dry_run: false,
            progress_interval: Duration::from_millis(250),
        }
    }
}

/// The shortest wait before a call refused with 命中频率限制 is sent again: about half of the
/// one-second window WeChat Pay's limits are counted in.
const RATE_LIMITED_MIN_DELAY: Duration = Duration::from_millis(500);

/// Where a run stands, for a progress bar.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    /// Operations done (all runs).
    pub done: u64,
    /// Operations failed (all runs).
    pub failed: u64,
    /// Operations left.
    pub remaining: u64,
    /// Requests on the wire now.
    pub in_flight: u64,
    /// Operations finished per second in this run.
    pub rate_per_sec: f64,
    /// The send rate in force (`None`: unlimited).
    pub limit_per_sec: Option<f64>,
    /// Seconds left at the current pace, when known.
    pub eta_secs: Option<f64>,
    /// Seconds since the run started.
    pub elapsed_secs: f64,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    /// Operations in the job.
    pub total: u64,
    /// Done (all runs).
    pub done: u64,
    /// Failed (all runs).
    pub failed: u64,
    /// Left (pending, or in flight when stopped).
    pub remaining: u64,
    /// Done in this run.
    pub done_this_run: u64,
    /// Failed in this run.
    pub failed_this_run: u64,
    /// Requests sent in this run (retries included).
    pub requests_sent: u64,
    /// 命中频率限制 (or 429) answers absorbed.
    pub rate_limited_answers: u64,
    /// Retries after other retryable errors.
    pub retries: u64,
    /// Operations found in flight from a run that died, sent again.
    pub requeued_in_flight: u64,
    /// Operations a dry run would send.
    pub would_send: u64,
    /// Stopped by the cancellation token before the end.
    pub cancelled: bool,
    /// Nothing was sent.
    pub dry_run: bool,
    /// Seconds the run took.
    pub elapsed_secs: f64,
}

/// What happens during a run, for a progress bar or one JSON line per event (`--json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The run starts.
    Started {
        /// Operations in the job.
        total: u64,
        /// Already done.
        done: u64,
        /// Already failed.
        failed: u64,
        /// To send.
        remaining: u64,
        /// In flight when a previous run died: sent again.
        requeued_in_flight: u64,
        /// Nothing will be sent.
        dry_run: bool,
    },
    /// Dry run: this would be sent.
    WouldSend {
        /// Journal id.
        id: i64,
        /// Plan line.
        line: u64,
        /// Special merchant.
        sub_mchid: String,
        /// Operation name.
        operation: &'static str,
        /// Its arguments.
        arguments: Value,
    },
    /// WeChat Pay confirmed an operation.
    Done {
        /// Journal id.
        id: i64,
        /// Plan line.
        line: u64,
        /// Special merchant.
        sub_mchid: String,
        /// Operation name.
        operation: &'static str,
        /// Request-ID of the answer.
        request_id: Option<String>,
        /// Attempts (all runs).
        attempts: u32,
    },
    /// An operation failed for good (this run).
    Failed {
        /// Journal id.
        id: i64,
        /// Plan line.
        line: u64,
        /// Special merchant.
        sub_mchid: String,
        /// Operation name.
        operation: &'static str,
        /// Why.
        failure: FailureKind,
        /// In words.
        reason: String,
        /// Request-ID of the last answer.
        request_id: Option<String>,
    },
    /// An operation will be sent again.
    Retrying {
        /// Journal id.
        id: i64,
        /// Operation name.
        operation: &'static str,
        /// Attempts so far.
        attempt: u32,
        /// The answer was 命中频率限制.
        rate_limited: bool,
        /// Wait before the next attempt (besides the rate limit).
        delay_ms: u64,
    },
    /// The send rate changed (adaptive slow-down or speed-up).
    RateChanged {
        /// The new rate (ops/s); `None`: unlimited again.
        rate_per_sec: Option<f64>,
        /// `slow_down` or `speed_up`.
        direction: &'static str,
    },
    /// Periodic progress.
    Progress(Progress),
    /// The run ended (also after a cancellation).
    Finished(RunSummary),
}

/// A receiver of events. Called from the runner's tasks: keep it quick (print, send on a
/// channel).
pub type EventSink = Arc<dyn Fn(&Event) + Send + Sync>;

/// Runs a journal's pending operations. See the module documentation.
#[derive(Clone)]
pub struct Runner {
    client: Client,
    journal: Journal,
    options: RunOptions,
    events: Option<EventSink>,
    cancel: CancellationToken,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("journal", &self.journal)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Runner {
    /// A runner for `journal`'s job, sending with `client`.
    pub fn new(client: Client, journal: Journal, options: RunOptions) -> Runner {
        Runner {
            client,
            journal,
            options,
            events: None,
            cancel: CancellationToken::new(),
        }
    }

    /// Calls `sink` with every [`Event`].
    pub fn on_event(mut self, sink: impl Fn(&Event) + Send + Sync + 'static) -> Runner {
        self.events = Some(Arc::new(sink));
        self
    }

    /// Uses `token` to stop: once cancelled, no new operation starts; those on the wire finish
    /// and are journaled; `run` then returns with `cancelled` set.
    pub fn with_cancellation(mut self, token: CancellationToken) -> Runner {
        self.cancel = token;
        self
    }

    /// The token that stops this runner (cancel it on Ctrl-C).
    pub fn cancellation_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// The journal it works on.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// Runs until every operation is done or failed, or the token is cancelled. Operations in
    /// flight when a previous run died are sent again first. Dropping the returned future
    /// aborts the tasks: operations then left `in_flight` are sent again by the next run,
    /// exactly as after a crash.
    pub async fn run(&self) -> Result<RunSummary> {
        let o = &self.options;
        if o.concurrency == 0 {
            return Err(BulkError::InvalidInput(
                "concurrency must be at least 1".into(),
            ));
        }
        if o.rate_per_sec.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
            return Err(BulkError::InvalidInput(
                "the rate must be a positive number of operations per second".into(),
            ));
        }
        let started = Instant::now();
        if o.dry_run {
            return self.dry_run(started);
        }
        let requeued = self.journal.requeue_in_flight()?;
        let counts = self.journal.counts()?;
        let ctx = Arc::new(Ctx {
            client: self.client.clone(),
            journal: self.journal.clone(),
            committer: Committer::start(self.journal.clone())?,
            options: o.clone(),
            events: self.events.clone(),
            cancel: self.cancel.clone(),
            bucket: Mutex::new(Bucket::new(
                o.rate_per_sec,
                o.burst,
                o.min_rate_per_sec,
                started,
            )),
            cursor: Mutex::new(Cursor::default()),
            started,
            total: counts.total,
            done: AtomicU64::new(counts.done),
            failed: AtomicU64::new(counts.failed),
            done_this_run: AtomicU64::new(0),
            failed_this_run: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            last_progress: Mutex::new(started),
            idempotent: Mutex::new(HashMap::new()),
        });
        ctx.emit(&Event::Started {
            total: counts.total,
            done: counts.done,
            failed: counts.failed,
            remaining: counts.remaining(),
            requeued_in_flight: requeued,
            dry_run: false,
        });
        // A JoinSet aborts its tasks when dropped, so dropping `run` stops everything.
        let mut tasks = JoinSet::new();
        for _ in 0..o.concurrency {
            let ctx = Arc::clone(&ctx);
            tasks.spawn(async move { ctx.worker().await });
        }
        let mut first_error = None;
        while let Some(joined) = tasks.join_next().await {
            let outcome =
                joined.map_err(|e| BulkError::Internal(format!("a runner task failed: {e}")));
            if let Err(e) = outcome.and_then(|r| r)
                && first_error.is_none()
            {
                // A journal failure: stop starting operations, let the others finish.
                ctx.cancel.cancel();
                first_error = Some(e);
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        let counts = self.journal.counts()?;
        let summary = RunSummary {
            total: counts.total,
            done: counts.done,
            failed: counts.failed,
            remaining: counts.remaining(),
            done_this_run: ctx.done_this_run.load(Ordering::Relaxed),
            failed_this_run: ctx.failed_this_run.load(Ordering::Relaxed),
            requests_sent: ctx.sent.load(Ordering::Relaxed),
            rate_limited_answers: ctx.rate_limited.load(Ordering::Relaxed),
            retries: ctx.retries.load(Ordering::Relaxed),
            requeued_in_flight: requeued,
            would_send: 0,
            cancelled: self.cancel.is_cancelled() && counts.remaining() > 0,
            dry_run: false,
            elapsed_secs: started.elapsed().as_secs_f64(),
        };
        ctx.emit(&Event::Progress(ctx.progress()));
        ctx.emit(&Event::Finished(summary.clone()));
        Ok(summary)
    }

    fn dry_run(&self, started: Instant) -> Result<RunSummary> {
        let counts = self.journal.counts()?;
        let emit = |e: &Event| {
            if let Some(sink) = &self.events {
                sink(e);
            }
        };
        emit(&Event::Started {
            total: counts.total,
            done: counts.done,
            failed: counts.failed,
            remaining: counts.remaining(),
            requeued_in_flight: counts.in_flight,
            dry_run: true,
        });
        let pending = self.journal.pending_operations()?;
        for op in &pending {
            emit(&Event::WouldSend {
                id: op.id,
                line: op.line,
                sub_mchid: op.sub_mchid.clone(),
                operation: op.operation.as_str(),
                arguments: op.arguments.clone(),
            });
        }
        let summary = RunSummary {
            total: counts.total,
            done: counts.done,
            failed: counts.failed,
            remaining: counts.remaining(),
            done_this_run: 0,
            failed_this_run: 0,
            requests_sent: 0,
            rate_limited_answers: 0,
            retries: 0,
            requeued_in_flight: 0,
            would_send: u64::try_from(pending.len()).unwrap_or(u64::MAX),
            cancelled: false,
            dry_run: true,
            elapsed_secs: started.elapsed().as_secs_f64(),
        };
        emit(&Event::Finished(summary.clone()));
        Ok(summary)
    }
}

/// Pages of merchants still to do (each with its operations), read from the journal as the
/// workers need them.
struct Cursor {
    queue: VecDeque<Vec<JournalOperation>>,
    /// The last merchant position read (positions start at 0).
    after: i64,
    exhausted: bool,
}

impl Default for Cursor {
    fn default() -> Cursor {
        Cursor {
            queue: VecDeque::new(),
            after: -1,
            exhausted: false,
        }
    }
}

/// Merchants read from the journal per page.
const PAGE: u32 = 256;

struct Ctx {
    client: Client,
    journal: Journal,
    committer: Committer,
    options: RunOptions,
    events: Option<EventSink>,
    cancel: CancellationToken,
    bucket: Mutex<Bucket>,
    cursor: Mutex<Cursor>,
    started: Instant,
    total: u64,
    done: AtomicU64,
    failed: AtomicU64,
    done_this_run: AtomicU64,
    failed_this_run: AtomicU64,
    in_flight: AtomicU64,
    sent: AtomicU64,
    rate_limited: AtomicU64,
    retries: AtomicU64,
    last_progress: Mutex<Instant>,
    idempotent: Mutex<HashMap<Operation, bool>>,
}

/// A worker's confirmation not written yet: it rides with the worker's next journal write
/// (one commit where there were two), or is written alone before the worker waits or ends.
#[derive(Default)]
struct Carry {
    confirmed: Option<(Change, Event)>,
}

/// How one operation ended in this run.
enum Outcome {
    Done,
    Failed,
    /// Not finished: cancelled before (re)sending; still pending.
    Stopped,
}

fn poisoned() -> BulkError {
    BulkError::Internal("a runner lock was poisoned".into())
}

/// Whether WeChat Pay refused a Gold Plan OPEN under the 24-hour re-open rule
/// (点金计划关闭后24小时内不可重新开通).
pub fn is_reopen_too_soon(
    operation: Operation,
    arguments: &Value,
    error: &goldplan::Error,
) -> bool {
    operation == Operation::ChangeGoldPlanStatus
        && arguments["operation_type"] == OperationType::Open.as_str()
        && error.api().is_some_and(|api| {
            api.status == 400 && api.code == "INVALID_REQUEST" && api.message.contains("24小时")
        })
}

impl Ctx {
    fn emit(&self, event: &Event) {
        if let Some(sink) = &self.events {
            sink(event);
        }
    }

    fn progress(&self) -> Progress {
        let done = self.done.load(Ordering::Relaxed);
        let failed = self.failed.load(Ordering::Relaxed);
        let remaining = self.total.saturating_sub(done + failed);
        let elapsed = self.started.elapsed().as_secs_f64();
        let finished = self.done_this_run.load(Ordering::Relaxed)
            + self.failed_this_run.load(Ordering::Relaxed);
        let rate = if elapsed > 0.0 {
            finished as f64 / elapsed
        } else {
            0.0
        };
        Progress {
            done,
            failed,
            remaining,
            in_flight: self.in_flight.load(Ordering::Relaxed),
            rate_per_sec: rate,
            limit_per_sec: self.bucket.lock().ok().and_then(|b| b.rate()),
            eta_secs: (rate > 0.0).then(|| remaining as f64 / rate),
            elapsed_secs: elapsed,
        }
    }

    fn maybe_progress(&self) {
        let now = Instant::now();
        let due = match self.last_progress.lock() {
            Ok(mut last) if now.duration_since(*last) >= self.options.progress_interval => {
                *last = now;
                true
            }
            _ => false,
        };
        if due {
            self.emit(&Event::Progress(self.progress()));
        }
    }

    /// The next merchant's operations (none left: `None`).
    fn next_merchant(&self) -> Result<Option<Vec<JournalOperation>>> {
        let mut cursor = self.cursor.lock().map_err(|_| poisoned())?;
        if cursor.queue.is_empty() && !cursor.exhausted {
            match self.journal.next_page(cursor.after, PAGE)? {
                Some((last, page)) => {
                    cursor.after = last;
                    cursor.queue.extend(page);
                }
                None => cursor.exhausted = true,
            }
        }
        Ok(cursor.queue.pop_front())
    }

    async fn worker(&self) -> Result<()> {
        let mut carry = Carry::default();
        while !self.cancel.is_cancelled() {
            let Some(ops) = self.next_merchant()? else {
                break;
            };
            self.run_merchant(&ops, &mut carry).await?;
        }
        self.write(&mut carry, None).await
    }

    /// Commits `change` together with the confirmation `carry` holds (either may be absent),
    /// then counts and announces that confirmation: a `done` event always means on disk.
    async fn write(&self, carry: &mut Carry, change: Option<Change>) -> Result<()> {
        let confirmed = carry.confirmed.take();
        let mut changes = Vec::with_capacity(2);
        let event = confirmed.map(|(done, event)| {
            changes.push(done);
            event
        });
        changes.extend(change);
        if changes.is_empty() {
            return Ok(());
        }
        self.committer.commit(changes).await?;
        if let Some(event) = event {
            self.done.fetch_add(1, Ordering::Relaxed);
            self.done_this_run.fetch_add(1, Ordering::Relaxed);
            self.emit(&event);
            self.maybe_progress();
        }
        Ok(())
    }

    async fn run_merchant(&self, ops: &[JournalOperation], carry: &mut Carry) -> Result<()> {
        let mut status: HashMap<u32, OpStatus> = ops.iter().map(|o| (o.seq, o.status)).collect();
        for op in ops {
            if matches!(op.status, OpStatus::Done | OpStatus::Failed) {
                continue;
            }
            let mut waiting = false;
            let mut blocker = None;
            for dep in &op.depends_on {
                match status.get(dep) {
                    Some(OpStatus::Done) => {}
                    Some(OpStatus::Failed) => {
                        blocker = ops.iter().find(|o| o.seq == *dep);
                        break;
                    }
                    _ => waiting = true,
                }
            }
            if let Some(blocker) = blocker {
                let reason = format!(
                    "blocked by {} (journal id {}), which failed: not sent",
                    blocker.operation, blocker.id
                );
                self.fail(carry, op, FailureKind::Blocked, &reason, None, None)
                    .await?;
                status.insert(op.seq, OpStatus::Failed);
                continue;
            }
            if waiting || self.cancel.is_cancelled() {
                // A dependency was left pending (cancelled): the next run does the rest.
                return Ok(());
            }
            match self.execute(op, carry).await? {
                Outcome::Done => {
                    status.insert(op.seq, OpStatus::Done);
                }
                Outcome::Failed => {
                    status.insert(op.seq, OpStatus::Failed);
                }
                Outcome::Stopped => return Ok(()),
            }
        }
        Ok(())
    }

    async fn fail(
        &self,
        carry: &mut Carry,
        op: &JournalOperation,
        kind: FailureKind,
        reason: &str,
        request_id: Option<&str>,
        error: Option<&str>,
    ) -> Result<()> {
        let failed = Change::Failed {
            id: op.id,
            kind,
            reason: reason.to_owned(),
            request_id: request_id.map(str::to_owned),
            error: error.map(str::to_owned),
        };
        self.write(carry, Some(failed)).await?;
        self.failed.fetch_add(1, Ordering::Relaxed);
        self.failed_this_run.fetch_add(1, Ordering::Relaxed);
        self.emit(&Event::Failed {
            id: op.id,
            line: op.line,
            sub_mchid: op.sub_mchid.clone(),
            operation: op.operation.as_str(),
            failure: kind,
            reason: reason.to_owned(),
            request_id: request_id.map(str::to_owned),
        });
        self.maybe_progress();
        Ok(())
    }

    /// Waits for a send token; `false` when cancelled first. A confirmation carried is
    /// written before waiting, so that it is not held back by the rate.
    async fn acquire(&self, carry: &mut Carry) -> Result<bool> {
        loop {
            let wait = {
                let mut bucket = self.bucket.lock().map_err(|_| poisoned())?;
                match bucket.try_acquire(Instant::now()) {
                    Ok(()) => return Ok(true),
                    Err(wait) => wait,
                }
            };
            self.write(carry, None).await?;
            tokio::select! {
                () = self.cancel.cancelled() => return Ok(false),
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    fn rate_event(&self, change: RateChange) {
        match change {
            RateChange::None => {}
            RateChange::Slower(r) => self.emit(&Event::RateChanged {
                rate_per_sec: Some(r),
                direction: "slow_down",
            }),
            RateChange::Faster(r) => self.emit(&Event::RateChanged {
                rate_per_sec: r.is_finite().then_some(r),
                direction: "speed_up",
            }),
        }
    }

    /// Whether an ambiguous failure (a timeout, a connection lost after sending) may be
    /// repeated: the registry says so of every Gold Plan operation (they set a state).
    fn idempotent(&self, op: Operation) -> bool {
        let Ok(mut cache) = self.idempotent.lock() else {
            return false;
        };
        *cache
            .entry(op)
            .or_insert_with(|| op.descriptor().idempotent)
    }

    fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .options
            .base_delay
            .saturating_mul(1u32.checked_shl(retry.min(16)).unwrap_or(u32::MAX));
        exp.min(self.options.max_delay)
    }

    /// Records `op` as pending again (if the process dies while it waits, the next run sends
    /// it), says so, and waits `delay`; `false` when cancelled meanwhile.
    #[allow(clippy::too_many_arguments)]
    async fn retry_later(
        &self,
        carry: &mut Carry,
        op: &JournalOperation,
        request_id: Option<String>,
        report: String,
        attempt: u32,
        rate_limited: bool,
        delay: Duration,
    ) -> Result<bool> {
        let pending = Change::Pending {
            id: op.id,
            request_id,
            error: Some(report),
        };
        self.write(carry, Some(pending)).await?;
        self.emit(&Event::Retrying {
            id: op.id,
            operation: op.operation.as_str(),
            attempt,
            rate_limited,
            delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
        });
        Ok(tokio::select! {
            () = self.cancel.cancelled() => false,
            () = tokio::time::sleep(delay) => true,
        })
    }

    async fn execute(&self, op: &JournalOperation, carry: &mut Carry) -> Result<Outcome> {
        let arguments = op.arguments.to_string();
        let mut errors = 0u32;
        let mut limited = 0u32;
        loop {
            if !self.acquire(carry).await? {
                return Ok(Outcome::Stopped);
            }
            // On disk before the request leaves: a crash from here on sends it again. The
            // worker's previous confirmation goes in the same commit.
            self.write(carry, Some(Change::InFlight { id: op.id }))
                .await?;
            self.in_flight.fetch_add(1, Ordering::Relaxed);
            self.sent.fetch_add(1, Ordering::Relaxed);
            let result = self
                .client
                .call_json(op.operation, arguments.as_bytes())
                .await;
            self.in_flight.fetch_sub(1, Ordering::Relaxed);
            let attempts = op.attempts + errors + limited + 1;
            let error = match result {
                Ok(reply) => {
                    let at = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
                    let change = self
                        .bucket
                        .lock()
                        .map_err(|_| poisoned())?
                        .on_success(Instant::now());
                    self.rate_event(change);
                    // Written with this worker's next journal write (its next send, a wait,
                    // or its end): until then the operation is `in_flight` on disk, which a
                    // crash would send again — harmless, as for any call in flight.
                    carry.confirmed = Some((
                        Change::Done {
                            id: op.id,
                            request_id: reply.request_id.clone(),
                            at,
                        },
                        Event::Done {
                            id: op.id,
                            line: op.line,
                            sub_mchid: op.sub_mchid.clone(),
                            operation: op.operation.as_str(),
                            request_id: reply.request_id,
                            attempts,
                        },
                    ));
                    return Ok(Outcome::Done);
                }
                Err(e) => e,
            };
            let report = error.report().to_json();
            let request_id = error.request_id().map(str::to_owned);
            let rid = request_id.as_deref();
            if error.api().is_some_and(goldplan::ApiError::is_rate_limited) {
                self.rate_limited.fetch_add(1, Ordering::Relaxed);
                limited += 1;
                let change = self
                    .bucket
                    .lock()
                    .map_err(|_| poisoned())?
                    .on_rate_limited(Instant::now());
                self.rate_event(change);
                if limited >= self.options.max_rate_limited_attempts {
                    let reason = format!(
                        "still rate limited (命中频率限制) after {limited} attempts: {error}"
                    );
                    self.fail(carry, op, FailureKind::Error, &reason, rid, Some(&report))
                        .await?;
                    return Ok(Outcome::Failed);
                }
                // Nothing was processed: pending again. The slowed bucket paces every call, but
                // the bucket only halves once per second while a gateway counts in windows:
                // this call also backs off (at least RATE_LIMITED_MIN_DELAY, doubling), so that
                // its attempts outlast the windows the gateway is still full in.
                let delay = self.backoff(limited - 1).max(RATE_LIMITED_MIN_DELAY);
                if !self
                    .retry_later(carry, op, request_id, report, attempts, true, delay)
                    .await?
                {
                    return Ok(Outcome::Stopped);
                }
                continue;
            }
            if is_reopen_too_soon(op.operation, &op.arguments, &error) {
                let reason = "the 24-hour rule: Gold Plan was closed less than 24 hours ago and \
                              WeChat Pay refuses to re-open it until then (not retried)";
                self.fail(
                    carry,
                    op,
                    FailureKind::ReopenTooSoon,
                    reason,
                    rid,
                    Some(&report),
                )
                .await?;
                return Ok(Outcome::Failed);
            }
            let ambiguous = matches!(error.kind(), ErrorKind::Transport | ErrorKind::Timeout)
                && self.idempotent(op.operation);
            if error.is_retryable() || ambiguous {
                errors += 1;
                if errors >= self.options.max_attempts {
                    let reason = format!("gave up after {errors} attempts: {error}");
                    self.fail(carry, op, FailureKind::Error, &reason, rid, Some(&report))
                        .await?;
                    return Ok(Outcome::Failed);
                }
                self.retries.fetch_add(1, Ordering::Relaxed);
                let delay = self.backoff(errors - 1);
                if !self
                    .retry_later(carry, op, request_id, report, attempts, false, delay)
                    .await?
                {
                    return Ok(Outcome::Stopped);
                }
                continue;
            }
            let reason = error.to_string();
            self.fail(carry, op, FailureKind::Error, &reason, rid, Some(&report))
                .await?;
            return Ok(Outcome::Failed);
        }
    }
}

//! The job journal: an embedded SQLite database (compiled in, no system library) that records
//! the plan a job carries out and the state of each of its operations, so that a job can be
//! stopped at any moment (Ctrl-C, SIGKILL, power loss) and continued.
//!
//! Guarantees:
//!
//! - Every status change is committed before the step that depends on it: an operation is
//!   `in_flight` on disk before its request is sent, and `done` on disk before the next
//!   operation of its merchant starts. Changes made at the same moment by concurrent
//!   operations share one transaction (a group commit), which never delays any of them.
//! - A `done` operation is never sent again. One `in_flight` when the process died may or may
//!   not have reached WeChat Pay: the next run sends it again. That is safe because every Gold
//!   Plan operation sets a state (OPEN/CLOSE, replace the filter) — sending it twice leaves the
//!   same state. The one exception is the 24-hour rule: WeChat Pay refuses to re-open Gold Plan
//!   within 24 hours of a CLOSE; a plan never closes and opens one merchant (one row per
//!   merchant), so a repeat cannot trip it, and when WeChat Pay answers it, the operation is
//!   recorded as failed with that reason and never retried automatically.
//! - WAL mode with `synchronous=NORMAL` by default ([`Durability::Normal`]): a commit survives
//!   the process being killed (it is in the WAL, which the OS holds), and the database stays
//!   consistent after a power loss, which may however lose the last commits. Losing a `done`
//!   that way only means the operation is sent again — harmless, as above — so the default
//!   buys the speed of not syncing twice per operation. [`Durability::Full`] syncs every commit
//!   for those who want the report exact even across a power cut.
//! - A journal is bound to its plan by the SHA-256 of the plan text: opening it with another
//!   plan is an error. It is held with an exclusive lock while open, so two processes cannot
//!   run the same job at once (which would send everything twice).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use goldplan::client::Operation;
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{BulkError, Result};
use crate::plan::{Plan, operation_name};

/// Version of the journal's tables (SQLite `user_version`).
pub const JOURNAL_FORMAT: i64 = 1;

/// How hard each commit is pushed to the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Durability {
    /// `synchronous=NORMAL` (WAL): survives a killed process; a power loss may lose the last
    /// commits (their operations are then sent again, which is safe).
    #[default]
    Normal,
    /// `synchronous=FULL`: every commit is synced; survives a power loss.
    Full,
}

/// Where an operation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpStatus {
    /// Not sent yet, or to be sent again.
    Pending,
    /// Sent (or about to be) and not answered yet; sent again by the next run after a crash.
    InFlight,
    /// WeChat Pay confirmed it.
    Done,
    /// Given up; see [`FailureKind`].
    Failed,
}

impl OpStatus {
    /// The name stored in the journal.
    pub fn as_str(self) -> &'static str {
        match self {
            OpStatus::Pending => "pending",
            OpStatus::InFlight => "in_flight",
            OpStatus::Done => "done",
            OpStatus::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Result<OpStatus> {
        Ok(match text {
            "pending" => OpStatus::Pending,
            "in_flight" => OpStatus::InFlight,
            "done" => OpStatus::Done,
            "failed" => OpStatus::Failed,
            _ => {
                return Err(BulkError::Internal(
                    "unknown operation status in the journal".into(),
                ));
            }
        })
    }
}

/// Why an operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// WeChat Pay (or the transport) answered an error that retrying does not fix, or the
    /// retries ran out; the error report says which.
    Error,
    /// The 24-hour rule: Gold Plan was closed less than 24 hours ago and cannot be re-opened
    /// yet. Never retried automatically ([`Journal::retry_failed`] takes it only when asked).
    ReopenTooSoon,
    /// Not sent, because an operation it depends on failed.
    Blocked,
}

impl FailureKind {
    /// The name stored in the journal.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Error => "error",
            FailureKind::ReopenTooSoon => "reopen_too_soon",
            FailureKind::Blocked => "blocked",
        }
    }

    fn parse(text: &str) -> Option<FailureKind> {
        match text {
            "error" => Some(FailureKind::Error),
            "reopen_too_soon" => Some(FailureKind::ReopenTooSoon),
            "blocked" => Some(FailureKind::Blocked),
            _ => None,
        }
    }
}

/// The job a journal records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobInfo {
    /// The plan's name (file name).
    pub plan_name: String,
    /// The plan's SHA-256 (hex).
    pub plan_sha256: String,
    /// When the journal was created (Unix seconds).
    pub created_at: i64,
    /// Number of operations.
    pub operations: u64,
    /// Number of special merchants.
    pub merchants: u64,
}

/// One operation as the journal holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JournalOperation {
    /// Its id in the journal (plan order).
    pub id: i64,
    /// File line of its plan row.
    pub line: u64,
    /// The special merchant.
    pub sub_mchid: String,
    /// Position in the merchant's sequence.
    pub seq: u32,
    /// The registry operation.
    #[serde(serialize_with = "operation_name")]
    pub operation: Operation,
    /// Its arguments for `call_json`.
    pub arguments: Value,
    /// Positions of this merchant's operations that must be done first.
    pub depends_on: Vec<u32>,
    /// Where it stands.
    pub status: OpStatus,
    /// How many times it was sent (all runs).
    pub attempts: u32,
    /// The Request-ID of the last answer.
    pub last_request_id: Option<String>,
    /// The last error, as the core's `ErrorReport` JSON.
    pub last_error: Option<Value>,
    /// Why it failed, when it did.
    pub failure: Option<FailureKind>,
    /// The failure in words.
    pub reason: Option<String>,
    /// When WeChat Pay confirmed it (Unix seconds).
    pub confirmed_at: Option<i64>,
}

/// How many operations are in each status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Counts {
    /// All operations.
    pub total: u64,
    /// Not sent yet.
    pub pending: u64,
    /// Sent and not answered (after a crash: to be sent again).
    pub in_flight: u64,
    /// Confirmed.
    pub done: u64,
    /// Given up.
    pub failed: u64,
}

impl Counts {
    /// Operations still to do (pending and in flight).
    pub fn remaining(&self) -> u64 {
        self.pending + self.in_flight
    }
}

/// One merchant of a page: its position, its plan line, its operations in order.
pub(crate) type MerchantPage = (i64, u64, Vec<JournalOperation>);

/// A status change of one operation, as the runner records it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Change {
    /// About to be sent (one more attempt): committed before the request leaves.
    InFlight {
        /// Journal id.
        id: i64,
    },
    /// WeChat Pay confirmed it at `at` (Unix seconds).
    Done {
        /// Journal id.
        id: i64,
        /// Request-ID of the answer.
        request_id: Option<String>,
        /// When.
        at: i64,
    },
    /// Back to pending after a retryable error (or a cancelled retry), keeping the error.
    Pending {
        /// Journal id.
        id: i64,
        /// Request-ID of the answer, if any.
        request_id: Option<String>,
        /// The error report (JSON).
        error: Option<String>,
    },
    /// Given up.
    Failed {
        /// Journal id.
        id: i64,
        /// Why.
        kind: FailureKind,
        /// In words.
        reason: String,
        /// Request-ID of the last answer, if any.
        request_id: Option<String>,
        /// The error report (JSON).
        error: Option<String>,
    },
}

/// An open journal. Cheap to clone (one shared connection); safe to use from many tasks.
///
/// Reads and one-off writes run on the caller's thread under a mutex (with WAL and
/// `synchronous=NORMAL` a commit is a write to the OS cache); a run's status changes go
/// through the runner's journal thread, which commits them in groups.
#[derive(Clone)]
pub struct Journal {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
    job: JobInfo,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .field("job", &self.job)
            .finish()
    }
}

// No index on `status`: it would be rewritten by every status change (two more pages per
// commit), while the statements that filter on it run once a run (counts, requeue) or go
// through a merchant's operations by the `(sub_mchid, seq)` index. Journals made before keep
// theirs; it changes nothing but speed.
const SCHEMA: &str = "
CREATE TABLE job (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    plan_name TEXT NOT NULL,
    plan_sha256 TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE merchants (
    ord INTEGER PRIMARY KEY,
    sub_mchid TEXT NOT NULL UNIQUE,
    line INTEGER NOT NULL
);
CREATE TABLE ops (
    id INTEGER PRIMARY KEY,
    line INTEGER NOT NULL,
    sub_mchid TEXT NOT NULL,
    seq INTEGER NOT NULL,
    operation TEXT NOT NULL,
    arguments TEXT NOT NULL,
    depends_on TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'in_flight', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_request_id TEXT,
    last_error TEXT,
    failure TEXT,
    reason TEXT,
    confirmed_at INTEGER,
    updated_at INTEGER,
    UNIQUE (sub_mchid, seq)
);
";

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Journal {
    /// Opens the journal at `path` for `plan`: creates it (with every operation of the plan,
    /// pending) when it does not exist, else checks that it was made for this very plan.
    pub fn open(path: impl AsRef<Path>, plan: &Plan) -> Result<Journal> {
        Journal::open_with(path, plan, Durability::default())
    }

    /// [`Journal::open`] with a chosen [`Durability`].
    pub fn open_with(
        path: impl AsRef<Path>,
        plan: &Plan,
        durability: Durability,
    ) -> Result<Journal> {
        let path = path.as_ref();
        let mut conn = connect(path, durability)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version == 0 {
            let tx = conn.transaction()?;
            tx.execute_batch(SCHEMA)?;
            tx.execute(
                "INSERT INTO job (id, plan_name, plan_sha256, created_at) VALUES (1, ?1, ?2, ?3)",
                params![plan.source_name(), plan.sha256(), now_unix()],
            )?;
            {
                let mut merchant =
                    tx.prepare("INSERT INTO merchants (ord, sub_mchid, line) VALUES (?1, ?2, ?3)")?;
                let mut op = tx.prepare(
                    "INSERT INTO ops (line, sub_mchid, seq, operation, arguments, depends_on, \
                     status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending')",
                )?;
                for (ord, m) in plan.merchants().iter().enumerate() {
                    merchant.execute(params![
                        i64::try_from(ord).unwrap_or(i64::MAX),
                        m.sub_mchid,
                        i64::try_from(m.line).unwrap_or(i64::MAX)
                    ])?;
                    for o in m.operations() {
                        let depends = serde_json::to_string(&o.depends_on)
                            .map_err(|e| BulkError::Internal(e.to_string()))?;
                        op.execute(params![
                            i64::try_from(o.line).unwrap_or(i64::MAX),
                            o.sub_mchid,
                            o.seq,
                            o.operation.as_str(),
                            o.arguments.to_string(),
                            depends,
                        ])?;
                    }
                }
            }
            tx.execute_batch(&format!("PRAGMA user_version = {JOURNAL_FORMAT}"))?;
            tx.commit()?;
        } else {
            check_version(path, version)?;
        }
        let journal = Journal::from_connection(conn, path)?;
        if journal.job.plan_sha256 != plan.sha256() {
            return Err(BulkError::PlanMismatch {
                journal: path.display().to_string(),
                journal_plan: journal.job.plan_name.clone(),
                journal_sha256: journal.job.plan_sha256.clone(),
                plan: plan.source_name().to_owned(),
                plan_sha256: plan.sha256().to_owned(),
            });
        }
        Ok(journal)
    }

    /// Opens an existing journal without its plan (for `report` and `retry-failed`).
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Journal> {
        let path = path.as_ref();
        if !path.exists() {
            return Err(BulkError::Journal {
                path: path.display().to_string(),
                message: "no such journal".into(),
            });
        }
        let conn = connect(path, Durability::default())?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        check_version(path, version)?;
        Journal::from_connection(conn, path)
    }

    fn from_connection(conn: Connection, path: &Path) -> Result<Journal> {
        let (plan_name, plan_sha256, created_at): (String, String, i64) = conn.query_row(
            "SELECT plan_name, plan_sha256, created_at FROM job WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let operations: i64 = conn.query_row("SELECT COUNT(*) FROM ops", [], |r| r.get(0))?;
        let merchants: i64 = conn.query_row("SELECT COUNT(*) FROM merchants", [], |r| r.get(0))?;
        Ok(Journal {
            conn: Arc::new(Mutex::new(conn)),
            path: path.to_owned(),
            job: JobInfo {
                plan_name,
                plan_sha256,
                created_at,
                operations: u64::try_from(operations).unwrap_or(0),
                merchants: u64::try_from(merchants).unwrap_or(0),
            },
        })
    }

    /// The job it records.
    pub fn job(&self) -> &JobInfo {
        &self.job
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, Connection>> {
        self.conn
            .lock()
            .map_err(|_| BulkError::Internal("the journal lock was poisoned".into()))
    }

    /// How many operations are in each status.
    pub fn counts(&self) -> Result<Counts> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare("SELECT status, COUNT(*) FROM ops GROUP BY status")?;
        let mut counts = Counts::default();
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (status, n) = row?;
            let n = u64::try_from(n).unwrap_or(0);
            counts.total += n;
            match OpStatus::parse(&status)? {
                OpStatus::Pending => counts.pending = n,
                OpStatus::InFlight => counts.in_flight = n,
                OpStatus::Done => counts.done = n,
                OpStatus::Failed => counts.failed = n,
            }
        }
        Ok(counts)
    }

    /// Every operation, in plan order (loads them all: for reports and tests; the runner pages
    /// through merchants instead).
    pub fn operations(&self) -> Result<Vec<JournalOperation>> {
        self.select("ORDER BY id", params![])
    }

    /// The operations a run would send now (pending and in flight), in plan order.
    pub fn pending_operations(&self) -> Result<Vec<JournalOperation>> {
        self.select(
            "WHERE status IN ('pending', 'in_flight') ORDER BY id",
            params![],
        )
    }

    /// One merchant's operations, in their order.
    pub fn merchant_operations(&self, sub_mchid: &str) -> Result<Vec<JournalOperation>> {
        self.select("WHERE sub_mchid = ?1 ORDER BY seq", params![sub_mchid])
    }

    fn select(&self, tail: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<JournalOperation>> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT id, line, sub_mchid, seq, operation, arguments, depends_on, status, attempts, \
             last_request_id, last_error, failure, reason, confirmed_at FROM ops {tail}"
        ))?;
        let rows = stmt.query_map(args, |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, i64>(8)?,
                r.get::<_, Option<String>>(9)?,
                r.get::<_, Option<String>>(10)?,
                r.get::<_, Option<String>>(11)?,
                r.get::<_, Option<String>>(12)?,
                r.get::<_, Option<i64>>(13)?,
            ))
        })?;
        let bad = |what: &str| BulkError::Journal {
            path: self.path.display().to_string(),
            message: format!("unreadable {what}"),
        };
        let mut out = Vec::new();
        for row in rows {
            let (
                id,
                line,
                sub,
                seq,
                op,
                args,
                deps,
                status,
                attempts,
                rid,
                err,
                failure,
                reason,
                at,
            ) = row?;
            out.push(JournalOperation {
                id,
                line: u64::try_from(line).unwrap_or(0),
                sub_mchid: sub,
                seq: u32::try_from(seq).unwrap_or(0),
                operation: op.parse().map_err(|_| bad("operation name"))?,
                arguments: serde_json::from_str(&args).map_err(|_| bad("arguments"))?,
                depends_on: serde_json::from_str(&deps).map_err(|_| bad("dependencies"))?,
                status: OpStatus::parse(&status)?,
                attempts: u32::try_from(attempts).unwrap_or(0),
                last_request_id: rid,
                last_error: err.and_then(|e| serde_json::from_str(&e).ok()),
                failure: failure.as_deref().and_then(FailureKind::parse),
                reason,
                confirmed_at: at,
            });
        }
        Ok(out)
    }

    /// Up to `limit` merchants after position `after` (exclusive) that still have operations
    /// to send, each with all its operations in order, and the position of the last one: the
    /// runner's cursor, so that memory does not grow with the plan.
    pub(crate) fn next_page(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Option<(i64, Vec<Vec<JournalOperation>>)>> {
        let page = self.page(after, limit, true)?;
        Ok(page.last().map(|(last, ..)| *last).map(|last| {
            let merchants = page.into_iter().map(|(_, _, ops)| ops).collect();
            (last, merchants)
        }))
    }

    /// Up to `limit` merchants after position `after` (exclusive), in plan order, each with its
    /// position, its plan line and all its operations in order (for reports read a page at a
    /// time).
    pub(crate) fn merchant_page(&self, after: i64, limit: u32) -> Result<Vec<MerchantPage>> {
        self.page(after, limit, false)
    }

    /// Two statements a page, not one a merchant.
    fn page(&self, after: i64, limit: u32, unfinished_only: bool) -> Result<Vec<MerchantPage>> {
        let merchants: Vec<(i64, String, i64)> = {
            let conn = self.lock()?;
            let mut stmt = conn.prepare_cached(if unfinished_only {
                "SELECT m.ord, m.sub_mchid, m.line FROM merchants m WHERE m.ord > ?1 AND EXISTS \
                 (SELECT 1 FROM ops o WHERE o.sub_mchid = m.sub_mchid \
                  AND o.status IN ('pending', 'in_flight')) ORDER BY m.ord LIMIT ?2"
            } else {
                "SELECT ord, sub_mchid, line FROM merchants WHERE ord > ?1 ORDER BY ord LIMIT ?2"
            })?;
            let rows = stmt.query_map(params![after, limit], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        };
        let (Some((first, ..)), Some((last, ..))) = (merchants.first(), merchants.last()) else {
            return Ok(Vec::new());
        };
        let ops = self.select(
            "WHERE sub_mchid IN (SELECT sub_mchid FROM merchants WHERE ord BETWEEN ?1 AND ?2) \
             ORDER BY sub_mchid, seq",
            params![first, last],
        )?;
        let mut by_merchant: HashMap<String, Vec<JournalOperation>> = HashMap::new();
        for op in ops {
            by_merchant
                .entry(op.sub_mchid.clone())
                .or_default()
                .push(op);
        }
        Ok(merchants
            .into_iter()
            .filter_map(|(ord, sub, line)| {
                let ops = by_merchant.remove(&sub)?;
                Some((ord, u64::try_from(line).unwrap_or(0), ops))
            })
            .collect())
    }

    /// Operations left in flight by a run that died: they go back to pending (to be sent
    /// again). Returns how many.
    pub(crate) fn requeue_in_flight(&self) -> Result<u64> {
        let conn = self.lock()?;
        let n = conn
            .prepare_cached(
                "UPDATE ops SET status = 'pending', updated_at = ?1 WHERE status = 'in_flight'",
            )?
            .execute(params![now_unix()])?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Commits `changes` in one transaction: all of them or none. The runner's tasks hand
    /// their changes to one writer that commits whatever queued up meanwhile together (see
    /// `runner`), so concurrent operations share a commit instead of paying one each.
    pub(crate) fn apply(&self, changes: &[Change]) -> Result<()> {
        let conn = self.lock()?;
        // BEGIN and COMMIT as prepared statements too: a batch is often one or two changes,
        // and parsing them each time was a tenth of the journal's time.
        conn.prepare_cached("BEGIN")?.execute([])?;
        let committed = apply_each(&conn, changes).and_then(|()| {
            conn.prepare_cached("COMMIT")?.execute([])?;
            Ok(())
        });
        if committed.is_err() {
            // Nothing of this batch is kept (and the next batch can begin); the error says why.
            let _ = conn.execute_batch("ROLLBACK");
        }
        committed
    }

    /// Moves failed operations back to pending so that the next run tries them again; those
    /// refused by the 24-hour rule only when `include_reopen_too_soon` (wait 24 hours after
    /// the CLOSE first). Operations blocked by one that stays failed are blocked again by the
    /// next run. Returns how many were moved.
    pub fn retry_failed(&self, include_reopen_too_soon: bool) -> Result<u64> {
        let conn = self.lock()?;
        let n = if include_reopen_too_soon {
            conn.prepare_cached(
                "UPDATE ops SET status = 'pending', failure = NULL, reason = NULL, \
                 updated_at = ?1 WHERE status = 'failed'",
            )?
            .execute(params![now_unix()])?
        } else {
            conn.prepare_cached(
                "UPDATE ops SET status = 'pending', failure = NULL, reason = NULL, \
                 updated_at = ?1 WHERE status = 'failed' \
                 AND COALESCE(failure, '') != 'reopen_too_soon'",
            )?
            .execute(params![now_unix()])?
        };
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// The statements of [`Journal::apply`], inside its transaction.
fn apply_each(tx: &Connection, changes: &[Change]) -> Result<()> {
    let now = now_unix();
    for change in changes {
        match change {
            Change::InFlight { id } => tx
                .prepare_cached(
                    "UPDATE ops SET status = 'in_flight', attempts = attempts + 1, \
                     updated_at = ?2 WHERE id = ?1",
                )?
                .execute(params![id, now])?,
            Change::Done { id, request_id, at } => tx
                .prepare_cached(
                    "UPDATE ops SET status = 'done', last_request_id = ?2, confirmed_at = ?3, \
                     failure = NULL, reason = NULL, updated_at = ?3 WHERE id = ?1",
                )?
                .execute(params![id, request_id, at])?,
            Change::Pending {
                id,
                request_id,
                error,
            } => tx
                .prepare_cached(
                    "UPDATE ops SET status = 'pending', \
                     last_request_id = COALESCE(?2, last_request_id), \
                     last_error = COALESCE(?3, last_error), updated_at = ?4 WHERE id = ?1",
                )?
                .execute(params![id, request_id, error, now])?,
            Change::Failed {
                id,
                kind,
                reason,
                request_id,
                error,
            } => tx
                .prepare_cached(
                    "UPDATE ops SET status = 'failed', failure = ?2, reason = ?3, \
                     last_request_id = COALESCE(?4, last_request_id), \
                     last_error = COALESCE(?5, last_error), updated_at = ?6 WHERE id = ?1",
                )?
                .execute(params![id, kind.as_str(), reason, request_id, error, now])?,
        };
    }
    Ok(())
}

fn check_version(path: &Path, version: i64) -> Result<()> {
    if version == JOURNAL_FORMAT {
        Ok(())
    } else {
        Err(BulkError::Journal {
            path: path.display().to_string(),
            message: format!(
                "format {version} is not this version's ({JOURNAL_FORMAT}), or the file is not a \
                 journal"
            ),
        })
    }
}

fn connect(path: &Path, durability: Durability) -> Result<Connection> {
    let journal_error = |message: String| BulkError::Journal {
        path: path.display().to_string(),
        message,
    };
    let conn = Connection::open(path)?;
    // Another process holding the journal answers "busy": wait a little, then say so.
    conn.busy_timeout(std::time::Duration::from_secs(2))?;
    // Exclusive: one process per job, or both would send everything.
    conn.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::DatabaseBusy
                    || f.code == rusqlite::ErrorCode::DatabaseLocked =>
            {
                journal_error("in use by another process (one run per journal)".into())
            }
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase => {
                journal_error("not a journal (not an SQLite database)".into())
            }
            other => BulkError::Sqlite(other),
        })?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(journal_error(format!("cannot use WAL mode (got {mode})")));
    }
    let sync = match durability {
        Durability::Normal => "NORMAL",
        Durability::Full => "FULL",
    };
    conn.pragma_update(None, "synchronous", sync)?;
    // Take the lock now rather than at the first write, so a second process fails at open.
    conn.execute_batch("BEGIN EXCLUSIVE; COMMIT;")
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::DatabaseBusy
                    || f.code == rusqlite::ErrorCode::DatabaseLocked =>
            {
                journal_error("in use by another process (one run per journal)".into())
            }
            other => BulkError::Sqlite(other),
        })?;
    Ok(conn)
}

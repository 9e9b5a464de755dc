//! The crate's one error type. Messages never carry a secret: plan values are quoted only when
//! no longer than an industry tag, core errors are the core's (already redacted), and SQLite
//! errors name no data.

use crate::plan::PlanErrors;

/// Everything the bulk job can fail with (a single operation's failure is not an error of the
/// job: it is recorded in the journal and reported).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BulkError {
    /// The plan has problems; nothing was sent.
    #[error(transparent)]
    Plan(#[from] PlanErrors),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// An argument is not acceptable (a plan file too large, a zero concurrency, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The journal was made for another plan: continuing it would mix two jobs.
    #[error(
        "the journal {journal} was made for the plan {journal_plan} (sha256 {journal_sha256}), \
         not for {plan} (sha256 {plan_sha256}); use a new journal for a new plan"
    )]
    PlanMismatch {
        /// The journal file.
        journal: String,
        /// The plan name recorded in the journal.
        journal_plan: String,
        /// The plan hash recorded in the journal.
        journal_sha256: String,
        /// The plan given now.
        plan: String,
        /// Its hash.
        plan_sha256: String,
    },
    /// The file is not a journal of this version (or is another process's, locked).
    #[error("journal {path}: {message}")]
    Journal {
        /// The journal file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// SQLite failed.
    #[error("journal database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The core refused something before sending (should not happen: plans are validated with
    /// the same rules).
    #[error(transparent)]
    Core(#[from] goldplan::Error),
    /// A bug or a broken invariant.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Result with [`BulkError`].
pub type Result<T> = std::result::Result<T, BulkError>;
